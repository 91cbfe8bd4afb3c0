using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Loadshift.Dashboards.Tests;

/// <summary>
/// The dashboards against the running lab with load applied: this test starts its own Prometheus (rendered by
/// prometheus/render with the lab's exporters and services) and blackbox exporter on free loopback ports, runs
/// lab/load against every VM, and queries every panel, annotation and recording rule until each returns at least
/// one series. Then grafana/render-png draws the main panels from the same Prometheus.
/// </summary>
[Trait("Category", "Lab")]
public sealed partial class LabDataTests(ITestOutputHelper output)
{
    // Short intervals so that rates exist within seconds; $__rate_interval as Grafana computes it for a 5s
    // scrape interval (at least 4 scrapes), rounded up.
    private const string ScrapeInterval = "5s";
    private const string RateInterval = "30s";
    private static readonly TimeSpan MinimumLoad = TimeSpan.FromSeconds(40);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(150);

    [Fact]
    public async Task Every_panel_and_recording_rule_has_data_from_the_loaded_lab()
    {
        var lab = RunningLab.Read();
        using var temp = new TempDirectory();
        WriteTargets(lab, temp.Combine("targets.yml"), temp.Combine("services.yml"));

        var prometheusPort = Loopback.FreePort();
        var blackboxPort = Loopback.FreePort();
        var prometheusUrl = $"http://127.0.0.1:{prometheusPort}";
        Tool.RunOk(Path.Combine(Repository.Prometheus, "render"),
        [
            temp.Combine("prometheus"),
            "--scrape-interval", ScrapeInterval, "--evaluation-interval", ScrapeInterval,
            "--targets-file", temp.Combine("targets.yml"),
            "--services-file", temp.Combine("services.yml"),
            "--blackbox-url", $"http://127.0.0.1:{blackboxPort}",
            "--prometheus-url", prometheusUrl,
            // Nothing listens there: this Prometheus's alerts (HypervisorCpuHigh under the load) reach no
            // Alertmanager, so they move no VM. The Rebalancer keeps its default address: when one runs, it is scraped.
            "--alertmanager-url", $"http://127.0.0.1:{Loopback.FreePort()}",
        ]);

        using var blackbox = new BackgroundProcess("prometheus-blackbox-exporter",
            [$"--config.file={Repository.BlackboxConfig}", $"--web.listen-address=127.0.0.1:{blackboxPort}"], temp.Path);
        using var prometheus = new BackgroundProcess("prometheus",
        [
            $"--config.file={temp.Combine("prometheus", "prometheus.yml")}",
            $"--storage.tsdb.path={temp.Combine("data")}",
            $"--web.listen-address=127.0.0.1:{prometheusPort}",
        ], temp.Path);
        await Net.WaitUntilReadyAsync($"http://127.0.0.1:{blackboxPort}/-/healthy", blackbox, TimeSpan.FromSeconds(30));
        await Net.WaitUntilReadyAsync($"{prometheusUrl}/-/ready", prometheus, TimeSpan.FromSeconds(30));

        // The seed's load: every VM's CGI burns CPU, so its host runs busy and the services slow down.
        var started = Stopwatch.StartNew();
        using var load = new BackgroundProcess(Path.Combine(Repository.Root, "lab", "load"),
            ["--all", "--rate", "2", "--duration", "240s"], Repository.Root);

        var rebalancerQueries = new List<Query>();
        var required = new List<Query>();
        foreach (var query in await SubstitutedQueriesAsync(prometheusUrl))
        {
            var names = PromQl.MetricNames(query.Expr);
            if (names.Any(n => n.StartsWith("rebalancer_", StringComparison.Ordinal)) || query.Expr.Contains("job=\"rebalancer\"", StringComparison.Ordinal))
            {
                rebalancerQueries.Add(query);
            }
            else
            {
                required.Add(query);
            }
        }

        List<Query> empty;
        while (true)
        {
            await Task.Delay(TimeSpan.FromSeconds(5));
            Assert.False(prometheus.HasExited, $"prometheus exited:\n{prometheus.Output}");
            empty = [];
            foreach (var query in required)
            {
                if (await SeriesAsync(prometheusUrl, query.Expr) == 0)
                {
                    empty.Add(query);
                }
            }

            if ((empty.Count == 0 && started.Elapsed >= MinimumLoad) || started.Elapsed >= Deadline)
            {
                break;
            }
        }

        Assert.True(empty.Count == 0,
            $"{empty.Count} of {required.Count} queries returned no series after {started.Elapsed:g} of load:\n" +
            string.Join('\n', empty.Select(q => $"{q}: {q.Expr}")) + $"\n--- lab/load\n{load.Output}");

        var report = new StringBuilder();
        report.AppendLine($"{required.Count} queries with data after {started.Elapsed:g} of load.");
        report.AppendLine($"Rebalancer queries ({rebalancerQueries.Count}), parsed and checked against src/Rebalancer only:");
        foreach (var query in rebalancerQueries)
        {
            report.AppendLine($"  {query}: {await SeriesAsync(prometheusUrl, query.Expr)} series");
        }

        output.WriteLine(report.ToString());

        // The pictures, from the same data.
        var pictures = temp.Combine("pictures");
        var render = Tool.Run(Repository.RenderPng,
            [prometheusUrl, pictures, "--range", "3m", "--step", ScrapeInterval, "--rate-interval", RateInterval],
            timeout: TimeSpan.FromMinutes(2));
        Assert.True(render.ExitCode == 0, render.ToString());
        foreach (var name in new[] { "host-busy", "domain-cpu", "memory", "throughput", "probe-delay", "icmp-delay" })
        {
            var png = File.ReadAllBytes(Path.Combine(pictures, $"{name}.png"));
            Assert.True(png.Length > 5000 && png.AsSpan(1, 3).SequenceEqual("PNG"u8), $"{name}.png is not a drawn PNG");
        }
    }

    /// <summary>The lab's exporters (one target per host, labelled host) and services (one entry per VM: address,
    /// domain, url) in the file_sd formats that prometheus.yml documents.</summary>
    private static void WriteTargets(LabState lab, string targetsFile, string servicesFile)
    {
        var targets = new StringBuilder();
        foreach (var host in lab.Hosts)
        {
            var address = new Uri(host.ExporterUrl).Authority;
            targets.Append($"- targets: ['{address}']\n  labels: {{host: '{host.Name}'}}\n");
        }

        var services = new StringBuilder();
        foreach (var vm in lab.Vms)
        {
            services.Append($"- targets: ['{vm.Address}']\n" +
                            $"  labels: {{domain: '{vm.Name}', url: '{vm.Url}'}}\n");
        }

        File.WriteAllText(targetsFile, targets.ToString());
        File.WriteAllText(servicesFile, services.ToString());
    }

    /// <summary>Every dashboard query with its variables set from this Prometheus, and every recording rule: its
    /// expression and its recorded name. Alerts are conditions (no series is their normal state): parsed only.</summary>
    private async Task<List<Query>> SubstitutedQueriesAsync(string prometheusUrl)
    {
        // The variables' label values need the first scrapes and probes.
        await Task.Delay(TimeSpan.FromSeconds(12));
        var queries = await PrometheusQueries.DashboardQueriesAsync(prometheusUrl, Dashboard.Committed, RateInterval, output.WriteLine);
        foreach (var rule in Rule.Committed.Where(r => r.IsRecording))
        {
            queries.Add(new Query(rule.File, $"record {rule.Name} (expression)", rule.Expr));
            queries.Add(new Query(rule.File, $"record {rule.Name} (recorded)", rule.Name));
        }

        return queries;
    }

    private static Task<int> SeriesAsync(string prometheusUrl, string expr) => PrometheusQueries.SeriesAsync(prometheusUrl, expr);
}
