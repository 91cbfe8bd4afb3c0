using System.Globalization;
using Loadshift.Exporter.Libvirt;

namespace Loadshift.Exporter.Tests;

/// <summary>Reads `virsh domstats --raw` output: the same keys as the bulk stats API, printed by libvirt's own client.</summary>
internal static class VirshDomstats
{
    public static List<DomainStatsRecord> Parse(string text, Func<string, string>? uuidOf = null)
    {
        var records = new List<DomainStatsRecord>();
        string? name = null;
        var stats = new List<KeyValuePair<string, StatValue>>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.StartsWith("Domain: ", StringComparison.Ordinal))
            {
                Flush();
                name = line["Domain: ".Length..].Trim('\'');
            }
            else if (line.Length > 0 && name is not null)
            {
                var eq = line.IndexOf('=', StringComparison.Ordinal);
                var key = line[..eq];
                var value = line[(eq + 1)..];
                stats.Add(new(key, double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && !key.EndsWith(".name", StringComparison.Ordinal) && !key.EndsWith(".path", StringComparison.Ordinal)
                    ? StatValue.Of(n)
                    : StatValue.Of(value)));
            }
        }

        Flush();
        return records;

        void Flush()
        {
            if (name is not null)
            {
                records.Add(new DomainStatsRecord(name, uuidOf?.Invoke(name) ?? "", [.. stats]));
            }

            stats.Clear();
        }
    }
}

/// <summary>A domain stats source below the interface, for unit tests of what the collector does with stats.</summary>
internal sealed class FakeDomainStatsSource(Func<CancellationToken, Task<IReadOnlyList<DomainStatsRecord>>> answer) : IDomainStatsSource
{
    private int _calls;

    public int Calls => _calls;

    public FakeDomainStatsSource(IReadOnlyList<DomainStatsRecord> records)
        : this(_ => Task.FromResult(records))
    {
    }

    public async Task<IReadOnlyList<DomainStatsRecord>> GetAllDomainStatsAsync(
        StatsGroups groups, TimeSpan deadline, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        try
        {
            return await answer(cancellationToken).WaitAsync(deadline, cancellationToken);
        }
        catch (TimeoutException e)
        {
            throw new LibvirtException("fake libvirt did not answer in time", e);
        }
    }
}
