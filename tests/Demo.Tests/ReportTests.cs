using System.Text.Json;
using Loadshift.Lab.Demo;

namespace Loadshift.Demo.Tests;

/// <summary>Needs no lab: how the demo turns probes into outages, reads its options and writes its report.</summary>
public class ReportTests
{
    private static ProbeResult Probe(long ms, bool ok) => new("vm1", ms, ok, ok ? 5 : 1000, ok ? null : "timeout");

    [Fact]
    public void A_VM_that_answered_nothing_keeps_the_other_VMs_latency_figures()
    {
        // lab/load --json as it writes it when one guest answered no request (its percentiles are null).
        const string json = """
            {"path":"/cgi-bin/burn","targets":[
              {"vm":"vm1","sent":62,"succeeded":62,"failed":0,"latencyMs":{"p50":94.2,"p95":180.4,"p99":201,"max":230}},
              {"vm":"vm2","sent":62,"succeeded":0,"failed":62,"latencyMs":{"p50":null,"p95":null,"p99":null,"max":null}}]}
            """;

        var figures = LatencyFigures.FromLoadReport(json);

        Assert.Equal([new LatencyFigures("vm1", 62, 62, 0, 94.2, 180.4), new LatencyFigures("vm2", 62, 0, 62, null, null)], figures);
        var table = Summary.Format(new DemoReport { Outcome = "failed", LoadedHost = "hv1", LatencyAfter = figures });
        Assert.Matches(@"\| vm1 CGI latency p50/p95 before -> after +\| - -> 94/180 ms \(0 of 62 failed\) \|", table);
        Assert.Matches(@"\| vm2 CGI latency p50/p95 before -> after +\| - -> no answer \(62 of 62 failed\) \|", table);
    }

    [Fact]
    public void LongestOutage_runs_from_the_first_failed_probe_to_the_next_answered_one()
    {
        var probes = new[]
        {
            Probe(0, true), Probe(100, false), Probe(200, false), Probe(300, true),
            Probe(400, false), Probe(500, false), Probe(600, false), Probe(700, false), Probe(800, true),
        };

        Assert.Equal(0.4, Scenario.LongestOutage(probes));
    }

    [Fact]
    public void LongestOutage_of_a_run_still_failing_at_the_end_counts_the_last_timeout()
    {
        Assert.Equal(1.1, Scenario.LongestOutage([Probe(0, true), Probe(100, false), Probe(200, false)]));
        Assert.Equal(0, Scenario.LongestOutage([Probe(0, true), Probe(100, true)]));
        Assert.Equal(0, Scenario.LongestOutage([]));
    }

    [Fact]
    public void RunOptions_fast_shortens_the_durations_it_waits_for()
    {
        var options = RunOptions.Parse(["--state", "s.json", "--repo", "/r", "--prometheus", "http://127.0.0.1:9090",
            "--rebalancer", "http://127.0.0.1:10180", "--token-file", "t", "--out", "o", "--fast"]);

        Assert.True(options.Fast);
        Assert.Equal(TimeSpan.FromSeconds(30), options.CpuHighFor);
        Assert.Equal(TimeSpan.FromSeconds(30), options.ReturnHomeAfter);
        Assert.Equal("hv1", options.LoadedHost);
        Assert.Equal(new Uri("http://127.0.0.1:9090/api/v1/alerts"), new Uri(options.Prometheus, "api/v1/alerts"));
    }

    [Fact]
    public void RunOptions_rejects_unknown_and_missing_options()
    {
        Assert.Throws<ArgumentException>(() => RunOptions.Parse(["--state", "s.json", "--bogus", "1"]));
        Assert.Throws<ArgumentException>(() => RunOptions.Parse(["--state", "s.json"]));
    }

    [Fact]
    public void The_summary_has_a_row_per_figure_the_issue_asks_for()
    {
        var report = new DemoReport
        {
            Outcome = "completed",
            LoadedHost = "hv1",
            HighWatermark = 0.8,
            CpuHighFor = "30 s",
            LoadStartedAt = DateTimeOffset.UnixEpoch,
            AlertPendingAt = DateTimeOffset.UnixEpoch.AddSeconds(45),
            AlertFiringAt = DateTimeOffset.UnixEpoch.AddSeconds(76),
            FirstDecisionAt = DateTimeOffset.UnixEpoch.AddSeconds(76.5),
            FirstMigrationDoneAt = DateTimeOffset.UnixEpoch.AddSeconds(80),
            LoadedHostBusyBefore = 1,
            LoadedHostBusyAfter = 0.65,
            Migrations = [new MigrationFigures(1, "vm2", "hv1", "hv3", "relief", null, DateTimeOffset.UnixEpoch.AddSeconds(76.6),
                DateTimeOffset.UnixEpoch.AddSeconds(80), 3.4, "succeeded", 64, 3, 0.4)],
            LatencyBefore = [new LatencyFigures("vm1", 150, 110, 40, 562, 4609)],
            LatencyAfter = [new LatencyFigures("vm1", 60, 60, 0, 93, 177)],
        };

        var table = Summary.Format(report);

        Assert.Contains("| overload -> alert firing (for 30 s)", table, StringComparison.Ordinal);
        Assert.Contains("| 31.0 s |", table, StringComparison.Ordinal);
        Assert.Contains("| alert firing -> decision", table, StringComparison.Ordinal);
        Assert.Contains("| decision -> migration done", table, StringComparison.Ordinal);
        Assert.Contains("migration vm2 hv1->hv3 (relief)", table, StringComparison.Ordinal);
        Assert.Contains("probes failed 3 of 64, longest outage 0.4 s", table, StringComparison.Ordinal);
        Assert.Contains("100.0% / 65.0%", table, StringComparison.Ordinal);
        Assert.Contains("562/4609 ms (40 of 150 failed) -> 93/177 ms (0 of 60 failed)", table, StringComparison.Ordinal);
    }

    [Fact]
    public void The_report_reads_back_from_its_json()
    {
        var report = new DemoReport { Outcome = "completed", AlertFiringAt = DateTimeOffset.UnixEpoch, JournalAgreesWithLibvirt = true };

        var back = JsonSerializer.Deserialize<DemoReport>(JsonSerializer.Serialize(report, DemoJson.Indented), DemoJson.Options)!;

        Assert.Equal("completed", back.Outcome);
        Assert.Equal(DateTimeOffset.UnixEpoch, back.AlertFiringAt);
        Assert.True(back.JournalAgreesWithLibvirt);
    }
}
