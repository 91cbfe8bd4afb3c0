using System.Text.Json;
using System.Text.RegularExpressions;
using Loadshift.Lab.Demo;
using Xunit.Abstractions;

namespace Loadshift.Demo.Tests;

/// <summary>The seed's scenario with short durations: <c>lab/demo --fast</c> on the running lab (tests/run brings it up
/// first), then its timeline.json against the sequence the issue asks for, then every panel of every dashboard against
/// the demo's Prometheus, then <c>lab/demo --stop</c>. About 5 minutes.</summary>
[Trait("Category", "Lab")]
public partial class ScenarioTests(ITestOutputHelper output)
{
    /// <summary>The longest a VM coming home may go without answering a probe (GET / every 100 ms, 1 s timeout), from
    /// 1 s before its migration to 2 s after: the cluster is calm then, so this is the migration's own outage. The
    /// lab's worst of 60 idle migrations was 28 failed probes, about 2.8 s (docs/lab.md); the demo's runs: 0.6 s.</summary>
    private const double MaxReturnOutageSeconds = 5;

    /// <summary>The same for a VM moved off the overloaded host: its page times out from the overload alone (hv1 at
    /// 100%, the guest's CPU busy with CGI requests; up to 9.4 s without an answer outside any migration in one
    /// run), so the bound is wider. The demo's runs: 0.7, 2.9 and 3.3 s.</summary>
    private const double MaxReliefOutageSeconds = 10;

    private const double HighWatermark = 0.80;

    /// <summary>$__rate_interval for the panel check at the end: the whole fast demo (about 5 minutes), as a dashboard
    /// showing the last 10 minutes would cover it.</summary>
    private const string DemoRateInterval = "10m";

    [Fact]
    public async Task The_fast_demo_relieves_hv1_and_brings_every_VM_home()
    {
        var lab = RunningLab.Read();
        var outDir = Directory.CreateTempSubdirectory("loadshift-demo-test-").FullName;

        string log;
        try
        {
            // Past the deadline lab/demo is interrupted first, then killed with its children a minute later; the
            // finally's lab/demo --stop stops the services.
            var demo = await Tool.RunAsync(Path.Combine(RepositoryRoot.Path, "lab", "demo"), ["--fast", "--out", outDir],
                timeout: TimeSpan.FromMinutes(20), grace: TimeSpan.FromMinutes(1));
            log = demo.Output;
            output.WriteLine(log);
            await CheckTimeline(lab, demo.ExitCode, log, Path.Combine(outDir, "timeline.json"));
            await EveryPanelHasData(log);
        }
        finally
        {
            var stop = await Tool.RunAsync(Path.Combine(RepositoryRoot.Path, "lab", "demo"), ["--stop"], timeout: TimeSpan.FromMinutes(2));
            output.WriteLine(stop.Output);
            Assert.True(stop.ExitCode == 0, $"lab/demo --stop exited {stop.ExitCode}: {stop.Output}");
        }

        // The demo's services stopped.
        var urls = ServiceUrls().Matches(log).Select(m => m.Groups["url"].Value).Distinct().ToList();
        Assert.Equal(4, urls.Count);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        foreach (var url in urls)
        {
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.GetAsync(new Uri(url)));
        }
        Assert.Empty(Directory.Exists(Repository.DemoPids) ? Directory.GetFiles(Repository.DemoPids, "*.pid") : []);
    }

    private static async Task CheckTimeline(LabState lab, int exit, string log, string timelineFile)
    {
        Assert.True(File.Exists(timelineFile), $"lab/demo wrote no timeline (exit {exit}):\n{Tail(log)}");
        var r = JsonSerializer.Deserialize<DemoReport>(await File.ReadAllTextAsync(timelineFile), DemoJson.Options)!;
        Assert.True(exit == 0 && r.Outcome == "completed", $"lab/demo exit {exit}, outcome {r.Outcome}: {r.Failure}\n{Tail(log)}");

        // The alert fired, after pending for its `for`.
        Assert.NotNull(r.AlertPendingAt);
        Assert.NotNull(r.AlertFiringAt);
        Assert.True(r.LoadStartedAt < r.AlertPendingAt && r.AlertPendingAt < r.AlertFiringAt);
        Assert.True(r.OverloadToAlertSeconds >= 25, $"fired {r.OverloadToAlertSeconds} s after pending; the fast `for` is 30 s");

        // At least one migration off hv1, decided after the alert, succeeded.
        var relief = r.Migrations.Where(m => m.Kind == "relief").ToList();
        Assert.NotEmpty(relief);
        Assert.All(relief, m =>
        {
            Assert.Equal("hv1", m.Source);
            Assert.NotEqual("hv1", m.Target);
            Assert.Equal("succeeded", m.Result);
            Assert.True(m.StartedAt >= r.AlertFiringAt!.Value.AddSeconds(-2), $"{m.Domain} moved before the alert fired");
        });
        Assert.NotNull(r.FirstWebhookAt);
        Assert.NotNull(r.FirstDecisionAt);

        // hv1 under the high watermark afterwards, and the alert resolved after the first move.
        Assert.True(r.LoadedHostBusyBefore > HighWatermark, $"hv1 was only {r.LoadedHostBusyBefore:P1} busy before the move");
        Assert.True(r.LoadedHostBusyAfter < HighWatermark, $"hv1 still {r.LoadedHostBusyAfter:P1} busy after the move(s) ({r.BusyAfterWindow})");
        Assert.NotNull(r.AlertResolvedAt);
        Assert.True(r.AlertResolvedAt > relief[0].StartedAt);
        Assert.True(r.LoadStoppedAt > r.AlertResolvedAt);

        // Every moved VM came back to hv1 after the load stopped.
        foreach (var domain in relief.Select(m => m.Domain).Distinct())
        {
            Assert.Contains(r.Migrations, m => m.Domain == domain && m.Kind == "return_home" && m.Target == "hv1"
                && m.Result == "succeeded" && m.StartedAt > r.LoadStoppedAt);
        }
        Assert.NotNull(r.AllHomeAt);

        // Every VM on exactly one host at every check (none at an instant of its own switch-over).
        Assert.True(r.PlacementChecks >= 60, $"only {r.PlacementChecks} placement checks");
        Assert.Empty(r.PlacementProblems);
        foreach (var check in r.PlacementSamples)
        {
            foreach (var vm in lab.Vms)
            {
                var on = check.Hosts.Count(h => h.Value?.Contains(vm.Name) == true);
                Assert.True(on == 1 || (on == 0 && InOwnMigration(r, vm.Name, check.At)),
                    $"{check.At:HH:mm:ss.f}: {vm.Name} running on {on} hosts");
            }
        }

        // The journal agrees with libvirt at the end.
        Assert.True(r.JournalAgreesWithLibvirt, string.Join("; ", r.JournalMismatches));

        // No VM without an answer for longer than the bound during a migration.
        Assert.All(r.Migrations, m =>
        {
            Assert.True(m.ProbesSent > 20, $"{m.Domain}: only {m.ProbesSent} probes around its migration");
            var bound = m.Kind == "relief" ? MaxReliefOutageSeconds : MaxReturnOutageSeconds;
            Assert.True(m.LongestOutageSeconds <= bound,
                $"{m.Domain} {m.Source}->{m.Target} ({m.Kind}): no answer for {m.LongestOutageSeconds} s (bound {bound} s)");
        });

        // The lab as it was found: every VM on its home host (asked of libvirt now).
        foreach (var host in lab.Hosts)
        {
            var running = await VirshListAsync(host.LibvirtUri);
            Assert.Equal(lab.Vms.Where(v => v.HomeHost == host.Name).Select(v => v.Name).Order(StringComparer.Ordinal), running);
        }
    }

    /// <summary>The issue's "every panel of every dashboard has data", with the whole loop running: the demo's Prometheus
    /// scraped the exporters, the blackbox exporter and the Rebalancer through the overload, the migrations and the
    /// return home.</summary>
    private static readonly string[] InFlightOnly = ["rebalancer_migration_remaining_bytes", "rebalancer_migration_total_bytes"];

    private async Task EveryPanelHasData(string log)
    {
        var prometheus = ServiceUrls().Matches(log).Single(m => m.Groups["service"].Value == "Prometheus").Groups["url"].Value;
        var queries = await PrometheusQueries.DashboardQueriesAsync(prometheus, Dashboard.Committed, DemoRateInterval, output.WriteLine);
        var empty = new List<Query>();
        foreach (var query in queries)
        {
            // The migration progress series exist only while a migration runs: the demo's migrations take 3 to 12 s,
            // which a scrape may miss (the demo of 2026-12-03 21:21 UTC had none). Cli.Tests' lab test sees them
            // during a migration slowed to 20 MiB/s (LabTests, the watch view).
            if (InFlightOnly.Any(m => query.Expr.Contains(m, StringComparison.Ordinal)))
            {
                continue;
            }
            if (await PrometheusQueries.SeriesAsync(prometheus, query.Expr) == 0)
            {
                empty.Add(query);
            }
        }
        Assert.True(empty.Count == 0, $"{empty.Count} of {queries.Count} dashboard queries have no data after the demo:\n" +
            string.Join('\n', empty.Select(q => $"{q}: {q.Expr}")));
        output.WriteLine($"{queries.Count} dashboard queries with data after the demo");
    }

    private static bool InOwnMigration(DemoReport r, string vm, DateTimeOffset at) =>
        r.Migrations.Any(m => m.Domain == vm && m.StartedAt <= at.AddSeconds(2) && (m.EndedAt ?? DateTimeOffset.MaxValue) >= at.AddSeconds(-2));

    private static async Task<IReadOnlyList<string>> VirshListAsync(string uri)
    {
        var virsh = await Tool.RunAsync("virsh", ["-q", "-c", uri, "list", "--name", "--state-running"], timeout: TimeSpan.FromSeconds(30));
        Assert.True(virsh.ExitCode == 0, virsh.ToString());
        return [.. virsh.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Order(StringComparer.Ordinal)];
    }

    private static string Tail(string log) => log.Length <= 6000 ? log : log[^6000..];

    // lab/demo's start line: "starting the blackbox exporter (URL), Prometheus (URL), Alertmanager (URL), the Rebalancer (URL)".
    [GeneratedRegex(@"(?<service>[A-Za-z]+) \((?<url>http://127\.0\.0\.1:[0-9]+)\)")]
    private static partial Regex ServiceUrls();
}
