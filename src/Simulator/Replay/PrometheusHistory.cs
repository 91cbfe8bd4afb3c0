using System.Globalization;
using System.Text.Json;
using Loadshift.Rebalancer.Inventory;
using Loadshift.Simulator.Inputs;
using Loadshift.Simulator.Simulation;

namespace Loadshift.Simulator.Replay;

/// <summary>A cluster's history read from Prometheus with range queries: each domain's CPU as the recording rule
/// host_domain:libvirt_domain_cpu:ratio_rate1m gives it (a share of the host it ran on, times that host's
/// capacity from the inventory: cores), where it ran (the series' host label), and its memory
/// (libvirt_domain_memory_maximum_bytes), and each host's recorded busy ratio (to compare). Replayed dry: the domains start where they ran at --from and the
/// policies move them from there.</summary>
public sealed class PrometheusHistory
{
    public const string DomainCpuRecord = "host_domain:libvirt_domain_cpu:ratio_rate1m";
    public const string DomainMemoryMetric = "libvirt_domain_memory_maximum_bytes";

    /// <summary>Prometheus refuses a range query of more than 11,000 points per series.</summary>
    private const int MaxPointsPerQuery = 11_000;

    private PrometheusHistory(IReadOnlyList<string> domains, IReadOnlyList<string> firstHost, long[] memory, float[][] cores, long stepSeconds, DateTimeOffset from,
        IReadOnlyDictionary<string, IReadOnlyList<double>> hostBusy)
    {
        HostBusy = hostBusy;
        Domains = domains;
        FirstHost = firstHost;
        Memory = memory;
        Cores = cores;
        StepSeconds = stepSeconds;
        From = from;
    }

    public IReadOnlyList<string> Domains { get; }

    public IReadOnlyList<string> FirstHost { get; }

    public long[] Memory { get; }

    /// <summary>Per step, per domain: cores demanded (NaN where Prometheus had no sample: the last value holds).</summary>
    public float[][] Cores { get; }

    public long StepSeconds { get; }

    /// <summary>host:hypervisor_cpu_busy:ratio_rate1m per inventory host, one value per step where Prometheus had one:
    /// what really happened, to hold the simulation's <c>none</c> policy against.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<double>> HostBusy { get; }

    /// <summary>The recorded share of host-steps over <paramref name="highWatermark"/> (steps without a value left out).</summary>
    public double RecordedOverloadTimeFraction(double highWatermark)
    {
        var all = HostBusy.Values.SelectMany(v => v).ToList();
        return all.Count == 0 ? double.NaN : (double)all.Count(b => b > highWatermark) / all.Count;
    }

    public DateTimeOffset From { get; }

    public static async Task<PrometheusHistory> ReadAsync(Uri prometheus, InventoryOptions inventory, DateTimeOffset from, DateTimeOffset to,
        TimeSpan step, CancellationToken cancellationToken)
    {
        if (to <= from)
        {
            throw new InputException($"--to ({to:O}) must be after --from ({from:O})");
        }
        var capacity = inventory.Hosts.ToDictionary(h => h.Name, h => h.CpuCapacity, StringComparer.Ordinal);
        using var http = new HttpClient { BaseAddress = prometheus, Timeout = TimeSpan.FromMinutes(2) };
        var stepSeconds = (long)step.TotalSeconds;
        var steps = (int)((to - from).TotalSeconds / stepSeconds) + 1;
        var cpu = await RangeAsync(http, DomainCpuRecord, from, steps, stepSeconds, cancellationToken).ConfigureAwait(false);
        var memory = await RangeAsync(http, DomainMemoryMetric, from, steps, stepSeconds, cancellationToken).ConfigureAwait(false);
        var busy = await RangeAsync(http, AlertRule.BusyRecord, from, steps, stepSeconds, cancellationToken).ConfigureAwait(false);
        var hostBusy = busy
            .Where(series => series.Labels.TryGetValue("host", out var host) && capacity.ContainsKey(host))
            .GroupBy(series => series.Labels["host"], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<double>)[.. g.SelectMany(series => series.Values).OrderBy(v => v.Step).Select(v => v.Value)],
                StringComparer.Ordinal);

        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var first = new List<(int Step, string Host)>();
        var samples = new List<(int Domain, int Step, float Cores)>();
        foreach (var series in cpu)
        {
            if (series.Labels.GetValueOrDefault("domain") is not { } domain || series.Labels.GetValueOrDefault("host") is not { } host)
            {
                continue;
            }
            if (!capacity.TryGetValue(host, out var cores))
            {
                throw new InputException($"{prometheus}: {DomainCpuRecord} has host '{host}', which is not in the inventory");
            }
            if (!index.TryGetValue(domain, out var d))
            {
                index[domain] = d = index.Count;
                first.Add((int.MaxValue, host));
            }
            foreach (var (s, value) in series.Values)
            {
                samples.Add((d, s, (float)(value * cores)));
                if (s < first[d].Step)
                {
                    first[d] = (s, host);
                }
            }
        }
        if (index.Count == 0)
        {
            throw new InputException($"{prometheus}: no {DomainCpuRecord} between {from:O} and {to:O}");
        }
        var table = new float[steps][];
        for (var s = 0; s < steps; s++)
        {
            table[s] = new float[index.Count];
            Array.Fill(table[s], float.NaN);
        }
        foreach (var (d, s, value) in samples)
        {
            // During a migration the domain shows on both hosts: its demand is one, the larger reading.
            table[s][d] = float.IsNaN(table[s][d]) ? value : Math.Max(table[s][d], value);
        }
        var bytes = new long[index.Count];
        foreach (var series in memory)
        {
            if (series.Labels.GetValueOrDefault("domain") is { } domain && index.TryGetValue(domain, out var d))
            {
                bytes[d] = Math.Max(bytes[d], (long)series.Values.Max(v => v.Value));
            }
        }
        var names = index.OrderBy(p => p.Value).Select(p => p.Key).ToList();
        return new PrometheusHistory(names, [.. first.Select(f => f.Host)], bytes, table, stepSeconds, from, hostBusy);
    }

    public Scenario ToScenario(InventoryFile inventory, AlertRule alert, MigrationModel migration)
    {
        var hostIndex = inventory.Inventory.Hosts.Select((h, i) => (h.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
        return new Scenario
        {
            Inventory = inventory.Inventory,
            Policy = inventory.Policy,
            Alert = alert,
            Domains = Domains,
            InitialHost = [.. FirstHost.Select(h => hostIndex[h])],
            InitialMemoryBytes = Memory,
            Migration = migration,
            Start = From,
            OpenTrace = () => new Trace(this),
        };
    }

    private sealed record Series(IReadOnlyDictionary<string, string> Labels, List<(int Step, double Value)> Values);

    private static async Task<List<Series>> RangeAsync(HttpClient http, string query, DateTimeOffset from, int steps, long stepSeconds,
        CancellationToken cancellationToken)
    {
        var bySeries = new Dictionary<string, Series>(StringComparer.Ordinal);
        for (var chunk = 0; chunk < steps; chunk += MaxPointsPerQuery - 1)
        {
            var start = from.AddSeconds(chunk * stepSeconds);
            var end = from.AddSeconds(Math.Min(steps - 1, chunk + MaxPointsPerQuery - 2) * stepSeconds);
            var url = $"api/v1/query_range?query={Uri.EscapeDataString(query)}&start={start.ToUnixTimeSeconds()}&end={end.ToUnixTimeSeconds()}&step={stepSeconds}";
            JsonDocument document;
            try
            {
                using var response = await http.GetAsync(new Uri(url, UriKind.Relative), cancellationToken).ConfigureAwait(false);
                var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    throw new InputException($"{http.BaseAddress}{url}: HTTP {(int)response.StatusCode}: {body}");
                }
                document = JsonDocument.Parse(body);
            }
            catch (Exception e) when (e is HttpRequestException or JsonException or TaskCanceledException)
            {
                throw new InputException($"{http.BaseAddress}: {query}: {e.Message}", e);
            }
            using (document)
            {
                foreach (var result in document.RootElement.GetProperty("data").GetProperty("result").EnumerateArray())
                {
                    var labels = result.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "", StringComparer.Ordinal);
                    var key = string.Join(',', labels.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));
                    if (!bySeries.TryGetValue(key, out var series))
                    {
                        bySeries[key] = series = new Series(labels, []);
                    }
                    foreach (var point in result.GetProperty("values").EnumerateArray())
                    {
                        var at = point[0].GetDouble();
                        var value = double.Parse(point[1].GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture);
                        var s = (int)Math.Round((at - from.ToUnixTimeSeconds()) / stepSeconds);
                        if (s >= 0 && s < steps && double.IsFinite(value))
                        {
                            series.Values.Add((s, value));
                        }
                    }
                }
            }
        }
        return [.. bySeries.Values];
    }

    private sealed class Trace(PrometheusHistory history) : ITrace
    {
        private int step;

        public double Progress => (double)step / history.Cores.Length;

        public bool ReadStep(double[] cpuCores, long[] memoryBytes, out long seconds)
        {
            seconds = step * history.StepSeconds;
            if (step >= history.Cores.Length)
            {
                return false;
            }
            var row = history.Cores[step];
            for (var d = 0; d < row.Length; d++)
            {
                if (!float.IsNaN(row[d]))
                {
                    cpuCores[d] = row[d];
                }
            }
            step++;
            return true;
        }

        public void Dispose()
        {
        }
    }
}
