using System.Globalization;
using System.Net;
using System.Text;
using Loadshift.Simulator.Inputs;
using Loadshift.Simulator.Policies;
using Loadshift.Simulator.Replay;
using Loadshift.Simulator.Simulation;
using Loadshift.Testing;

namespace Loadshift.Simulator.Tests;

/// <summary>The replay against a real Prometheus (Debian's, on loopback) whose TSDB holds a history written with
/// <c>promtool tsdb create-blocks-from openmetrics</c>: three domains saturating hv1 for 40 minutes, vm4 on hv2 until
/// it is moved to hv1 by hand at minute 20.</summary>
public sealed class PrometheusReplayTests : IDisposable
{
    private const string Inventory = """
        hosts:
          - name: hv1
            cpuCapacity: 4
            memoryBytes: 68719476736
          - name: hv2
            cpuCapacity: 4
            memoryBytes: 68719476736
        """;

    private readonly string directory = Path.Combine(Path.GetTempPath(), $"loadshift-sim-prom-{Guid.NewGuid():N}");
    private BackgroundProcess? prometheus;

    public void Dispose()
    {
        prometheus?.Dispose();
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task The_history_read_with_range_queries_is_replayed_from_where_the_domains_ran()
    {
        // Two hours back, on a whole minute, so the block lies inside the default retention and before now.
        var from = DateTimeOffset.FromUnixTimeSeconds((DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 60 * 60) - 7200);
        var url = await StartPrometheusAsync(from, minutes: 40);
        var inventory = InventoryFile.Parse(new StringReader(Inventory), "inline");

        var history = await PrometheusHistory.ReadAsync(url, inventory.Inventory, from, from.AddMinutes(39), TimeSpan.FromMinutes(1), CancellationToken.None);

        Assert.Equal(["hv1", "hv1", "hv1", "hv2"], history.Domains.Select((d, i) => (d, history.FirstHost[i])).OrderBy(p => p.d, StringComparer.Ordinal).Select(p => p.Item2));
        var vm1 = history.Domains.ToList().IndexOf("vm1");
        var vm4 = history.Domains.ToList().IndexOf("vm4");
        Assert.Equal(40, history.Cores.Length);
        Assert.Equal(1.2f, history.Cores[5][vm1], 3); // 0.3 of hv1's 4 CPUs
        Assert.Equal(0.4f, history.Cores[30][vm4], 3); // on hv1 by then: the series with host="hv1"
        Assert.Equal(2L << 30, history.Memory[vm1]);
        // What happened: hv1 over 0.80 all 40 minutes, hv2 never.
        Assert.Equal(0.5, history.RecordedOverloadTimeFraction(0.80), 6);

        // Replayed: the alert (for 2m) fires for hv1 at 0.90 and the Rebalancer's planner moves vm1, the lightest
        // domain that brings hv1 under 0.80 (the three tie; the name decides), to hv2.
        var rule = AlertRule.Load(Repo.Path("prometheus"), "HypervisorCpuHigh") with { EvaluationInterval = TimeSpan.FromMinutes(1) };
        var scenario = history.ToScenario(inventory, rule, new MigrationModel());
        var result = Simulation.Simulator.Run(scenario, [new LoadshiftPolicy(scenario.Policy, scenario.Start)]).Single();
        Assert.Equal("vm1 hv1->hv2", $"{scenario.Domains[result.Moves[0].Domain]} {scenario.Inventory.Hosts[result.Moves[0].Source].Name}->{scenario.Inventory.Hosts[result.Moves[0].Target].Name}");
        Assert.Equal(180, result.Moves[0].StartedAt);
    }

    private async Task<Uri> StartPrometheusAsync(DateTimeOffset from, int minutes)
    {
        Directory.CreateDirectory(directory);
        var metrics = new StringBuilder();
        void Series(string name, string labels, Func<int, double?> value)
        {
            for (var m = 0; m < minutes; m++)
            {
                if (value(m) is double v)
                {
                    metrics.Append(CultureInfo.InvariantCulture, $"{name}{{{labels}}} {v} {from.AddMinutes(m).ToUnixTimeSeconds()}\n");
                }
            }
        }
        metrics.Append("# TYPE host_domain:libvirt_domain_cpu:ratio_rate1m gauge\n");
        foreach (var vm in new[] { "vm1", "vm2", "vm3" })
        {
            Series(PrometheusHistory.DomainCpuRecord, $"domain=\"{vm}\",host=\"hv1\"", _ => 0.3);
        }
        Series(PrometheusHistory.DomainCpuRecord, "domain=\"vm4\",host=\"hv2\"", m => m < 20 ? 0.1 : null);
        Series(PrometheusHistory.DomainCpuRecord, "domain=\"vm4\",host=\"hv1\"", m => m >= 20 ? 0.1 : null);
        metrics.Append("# TYPE host:hypervisor_cpu_busy:ratio_rate1m gauge\n");
        Series("host:hypervisor_cpu_busy:ratio_rate1m", "host=\"hv1\"", m => m < 20 ? 0.9 : 1.0);
        Series("host:hypervisor_cpu_busy:ratio_rate1m", "host=\"hv2\"", m => m < 20 ? 0.1 : 0.0);
        metrics.Append("# TYPE libvirt_domain_memory_maximum_bytes gauge\n");
        foreach (var vm in new[] { "vm1", "vm2", "vm3", "vm4" })
        {
            Series(PrometheusHistory.DomainMemoryMetric, $"domain=\"{vm}\",host=\"hv1\"", _ => 2L << 30);
        }
        metrics.Append("# EOF\n");
        var openMetrics = Path.Combine(directory, "history.om");
        await File.WriteAllTextAsync(openMetrics, metrics.ToString());
        var data = Path.Combine(directory, "data");
        var blocks = await Tool.RunAsync("promtool", ["tsdb", "create-blocks-from", "openmetrics", openMetrics, data]);
        Assert.True(blocks.ExitCode == 0, blocks.ToString());
        var config = Path.Combine(directory, "prometheus.yml");
        await File.WriteAllTextAsync(config, "global:\n  scrape_interval: 15s\n");
        var port = Loopback.FreePort();
        prometheus = new BackgroundProcess("prometheus",
            [$"--config.file={config}", $"--storage.tsdb.path={data}", $"--web.listen-address=127.0.0.1:{port}"], directory);
        var url = new Uri($"http://127.0.0.1:{port}/");
        using var http = new HttpClient();
        for (var attempt = 0; attempt < 100; attempt++)
        {
            try
            {
                if ((await http.GetAsync(new Uri(url, "-/ready"))).StatusCode == HttpStatusCode.OK)
                {
                    return url;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(200);
        }
        throw new InvalidOperationException($"prometheus did not become ready in 20 s: {prometheus.Output}");
    }
}
