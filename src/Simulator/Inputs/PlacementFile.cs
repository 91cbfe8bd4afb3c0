using nietras.SeparatedValues;

namespace Loadshift.Simulator.Inputs;

/// <summary>Where each domain runs at the start: CSV with a header, columns <c>domain,host</c> and optionally
/// <c>memory_bytes</c> (what it takes on a target; 0 when left out).</summary>
public sealed record Placement(IReadOnlyList<string> Domains, IReadOnlyList<string> Hosts, IReadOnlyList<long> MemoryBytes)
{
    public static Placement Load(string path, IReadOnlyCollection<string> knownHosts)
    {
        if (!File.Exists(path))
        {
            throw new InputException($"--placement: '{path}' does not exist");
        }
        using var stream = File.OpenRead(path);
        return Read(stream, path, knownHosts);
    }

    public static Placement Read(Stream stream, string source, IReadOnlyCollection<string> knownHosts)
    {
        var hosts = new HashSet<string>(knownHosts, StringComparer.Ordinal);
        var domains = new List<string>();
        var on = new List<string>();
        var memory = new List<long>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        using var reader = Csv.Open(stream, source);
        var domainCol = Csv.Column(reader, source, "domain");
        var hostCol = Csv.Column(reader, source, "host");
        var memoryCol = Csv.OptionalColumn(reader, "memory_bytes");
        foreach (var row in reader)
        {
            var line = row.LineNumberFrom;
            Csv.CheckColumns(row, reader.Header.ColNames.Count, source);
            var domain = row[domainCol].ToString().Trim();
            var host = row[hostCol].ToString().Trim();
            if (domain.Length == 0)
            {
                throw new InputException($"{source}:{line}: the domain is empty");
            }
            if (!hosts.Contains(host))
            {
                throw new InputException($"{source}:{line}: host '{host}' of domain '{domain}' is not in the inventory");
            }
            if (seen.TryGetValue(domain, out var first))
            {
                throw new InputException($"{source}:{line}: domain '{domain}' is placed twice (first on line {first})");
            }
            seen[domain] = line;
            domains.Add(domain);
            on.Add(host);
            memory.Add(memoryCol is int m ? Csv.Bytes(row[m].Span, source, line, "memory_bytes") : 0);
        }
        if (domains.Count == 0)
        {
            throw new InputException($"{source}: no domain placed");
        }
        return new Placement(domains, on, memory);
    }
}
