using System.Globalization;
using System.Text.Json;

namespace Loadshift.Lab.Demo;

/// <summary>The seed's scenario, played against the running stack: load on the loaded host's VMs until
/// HypervisorCpuHigh fires and the Rebalancer has relieved the host, then no load until every VM is home again.
/// The demo never migrates anything itself: it watches.</summary>
internal sealed class Scenario(RunOptions options, LabState lab, PrometheusApi prometheus, RebalancerApi rebalancer, Libvirt libvirt)
    : IDisposable
{
    private const string AlertName = "HypervisorCpuHigh";
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);
    private readonly Timeline timeline = new();
    private readonly DemoReport report = new();
    private BackgroundCommand? load;
    private BackgroundCommand? prober;
    private Watcher? watcher;

    public DemoReport Report => report;

    public void Dispose()
    {
        load?.Dispose();
        prober?.Dispose();
    }

    public async Task<bool> RunAsync(CancellationToken ct)
    {
        report.StartedAt = DateTimeOffset.UtcNow;
        report.Fast = options.Fast;
        report.RatePerVm = options.RatePerVm;
        report.HighWatermark = options.HighWatermark;
        report.CpuHighFor = $"{options.CpuHighFor.TotalSeconds} s";
        report.ReturnHomeAfter = $"{options.ReturnHomeAfter.TotalSeconds} s";
        report.LoadedHost = options.LoadedHost;
        var vms = lab.Vms.Where(v => v.HomeHost == options.LoadedHost).Select(v => v.Name).ToList();
        watcher = new Watcher(lab, prometheus, rebalancer, libvirt, timeline, report, AlertName, options.LoadedHost);
        try
        {
            await PrepareAsync(vms, ct);
            await PlayAsync(vms, ct);
            report.Outcome = "completed";
            return true;
        }
        catch (DemoFailure e)
        {
            report.Outcome = "failed";
            report.Failure = e.Message;
            timeline.Note($"FAILED: {e.Message}");
            return false;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            report.Outcome = "interrupted";
            report.Failure = "interrupted";
            timeline.Note("interrupted");
            return false;
        }
        finally
        {
            await FinishAsync();
        }
    }

    private async Task PrepareAsync(List<string> vms, CancellationToken ct)
    {
        var w = watcher!;
        timeline.Note($"waiting for Prometheus to have {options.LoadedHost}'s busy ratio and for {string.Join(", ", vms)} to be home and {options.LoadedHost} quiet");
        // The journal's past (an earlier run) is not this run's timeline.
        w.ForgetPast((await rebalancer.ReceiptsAsync(ct)).Items, (await rebalancer.DecisionsAsync(ct)).Items,
            (await rebalancer.MigrationsAsync(ct)).Items);
        await WaitAsync("the loaded host to be quiet, every VM home and the alert inactive", TimeSpan.FromMinutes(options.Fast ? 4 : 8), () =>
            w.LoadedHostBusy is < 0.5 && w.AlertState is null && !w.MigrationRunning
            && w.Placement.TryGetValue(options.LoadedHost, out var home) && home is not null && vms.All(home.Contains),
            () => $"{options.LoadedHost} busy {Format.Percent(w.LoadedHostBusy)}, alert {w.AlertState ?? "inactive"}, on {options.LoadedHost}: {List(w.Placement.GetValueOrDefault(options.LoadedHost))}",
            ct, checkPlacement: true);
        report.LoadedHostBusyIdle = await BusyAsync(DateTimeOffset.UtcNow, TimeSpan.FromSeconds(30), ct);
        prober = new BackgroundCommand("ip", ["netns", "exec", lab.ClientNetns, Environment.ProcessPath!, "probe",
            "--state", options.StateFile, "--out", ProbeFile,
            "--interval-ms", options.ProbeIntervalMs.ToString(CultureInfo.InvariantCulture), "--timeout-ms", "1000"]);
        timeline.Note($"HTTP prober started: GET / of every VM every {options.ProbeIntervalMs} ms from the client namespace ({lab.ClientNetns}), 1 s timeout");
        await Task.Delay(TimeSpan.FromSeconds(2), ct);
    }

    private async Task PlayAsync(List<string> vms, CancellationToken ct)
    {
        var w = watcher!;
        // What happened while the demo waited (the Rebalancer bringing a VM home, an alert left by someone else's
        // load) is not this run's scenario: its figures start with the load.
        w.ForgetPast((await rebalancer.ReceiptsAsync(ct)).Items, (await rebalancer.DecisionsAsync(ct)).Items,
            (await rebalancer.MigrationsAsync(ct)).Items);
        report.AlertPendingAt = report.AlertFiringAt = report.FirstWebhookAt = report.FirstDecisionAt = null;
        report.FirstMigrationDoneAt = report.AlertResolvedAt = null;
        await w.PollAsync(ct);
        timeline.Zero = DateTimeOffset.UtcNow;
        report.LoadStartedAt = timeline.Zero;
        load = StartLoad(vms);
        timeline.Add(timeline.Zero.Value, "load_start",
            $"load start: lab/load --vm {string.Join(",", vms)} --rate {options.RatePerVm.ToString(CultureInfo.InvariantCulture)} (CGI, {options.RatePerVm * vms.Count} req/s in all)");

        await WaitAsync($"{AlertName} to fire", TimeSpan.FromSeconds(150) + options.CpuHighFor * 2, () => w.AlertState == "firing",
            () => w.AlertState == "pending" && w.AlertActiveAt is { } since
                ? $"{AlertName} pending for {(DateTimeOffset.UtcNow - since).TotalSeconds:F0} s of {options.CpuHighFor.TotalSeconds:F0} s; {options.LoadedHost} busy {Format.Percent(w.LoadedHostBusy)} (1m rate)"
                : $"{options.LoadedHost} busy {Format.Percent(w.LoadedHostBusy)} (1m rate), the alert needs > {Format.Percent(options.HighWatermark)}",
            ct);

        await WaitAsync("the Rebalancer to migrate a VM", TimeSpan.FromMinutes(3), () => w.Migrations.Any(m => m.Kind == "relief"),
            () => $"{AlertName} firing; waiting for the Rebalancer's decision and migration; {options.LoadedHost} busy {Format.Percent(w.LoadedHostBusy)}", ct);
        var firstStart = w.Migrations.First(m => m.Kind == "relief").StartedAt;
        var before = await StopLoadAsync();
        report.LatencyBefore = before;
        load = StartLoad(vms);
        report.LoadedHostBusyBefore = await BusyAsync(firstStart, TimeSpan.FromSeconds(30), ct);
        report.BusyBeforeWindow = $"the 30 s before the first migration started ({firstStart:HH:mm:ss})";

        await WaitAsync($"{options.LoadedHost} to fall under the high watermark and {AlertName} to resolve", TimeSpan.FromMinutes(options.Fast ? 5 : 8),
            () => report.AlertResolvedAt is not null && !w.MigrationRunning,
            () => $"{w.Migrations.Count(m => m.Kind == "relief")} migration(s) off {options.LoadedHost}; {options.LoadedHost} busy {Format.Percent(w.LoadedHostBusy)} (1m rate); alert {w.AlertState ?? "inactive"}", ct);

        // The after window: load still on, the Rebalancer done; restarted if it moves again meanwhile.
        await StopLoadAsync();
        load = StartLoad(vms);
        var afterStart = DateTimeOffset.UtcNow;
        var migrations = w.Migrations.Count;
        timeline.Note($"measuring {options.AfterWindow.TotalSeconds:F0} s with the load still on, after the Rebalancer's move(s)");
        await WaitAsync("the after window", options.AfterWindow * 4, () =>
            {
                if (w.Migrations.Count != migrations || w.MigrationRunning)
                {
                    migrations = w.Migrations.Count;
                    afterStart = DateTimeOffset.UtcNow;
                }
                return DateTimeOffset.UtcNow - afterStart >= options.AfterWindow;
            },
            () => $"after window {(DateTimeOffset.UtcNow - afterStart).TotalSeconds:F0} s of {options.AfterWindow.TotalSeconds:F0} s; {options.LoadedHost} busy {Format.Percent(w.LoadedHostBusy)} (1m rate)", ct);
        var afterEnd = DateTimeOffset.UtcNow;
        report.LatencyAfter = await StopLoadAsync();
        report.LoadStoppedAt = DateTimeOffset.UtcNow;
        timeline.Add(report.LoadStoppedAt.Value, "load_stop", "load stop");
        // The exporter's last scrape in the window may be a few seconds old: the busy ratio is taken over the window
        // from 5 s in until its end, evaluated a scrape later.
        await Task.Delay(TimeSpan.FromSeconds(6), ct);
        var window = afterEnd - afterStart - TimeSpan.FromSeconds(5);
        report.LoadedHostBusyAfter = await BusyAsync(afterEnd, window, ct);
        report.BusyAfterWindow = $"{window.TotalSeconds:F0} s with the load on, after the last move ({afterStart:HH:mm:ss}-{afterEnd:HH:mm:ss})";

        var moved = w.Migrations.Where(m => m.Kind == "relief" && m.Result == "succeeded").Select(m => m.Domain).Distinct().ToList();
        timeline.Note($"waiting for {string.Join(", ", moved)} to come home: {options.LoadedHost} must stay under the low watermark for {options.ReturnHomeAfter.TotalSeconds:F0} s");
        await WaitAsync("every VM to be home", options.ReturnHomeAfter + TimeSpan.FromMinutes(options.Fast ? 5 : 8),
            () => !w.MigrationRunning && w.Placement.TryGetValue(options.LoadedHost, out var home) && home is not null && vms.All(home.Contains),
            () => $"{options.LoadedHost} busy {Format.Percent(w.LoadedHostBusy)} (1m rate); away: {string.Join(", ", vms.Where(v => w.Placement.GetValueOrDefault(options.LoadedHost)?.Contains(v) != true))}",
            ct, checkPlacement: true);
        report.AllHomeAt = DateTimeOffset.UtcNow;
        timeline.Add(report.AllHomeAt.Value, "all_home", $"every VM home on {options.LoadedHost}: {List(w.Placement[options.LoadedHost])}");
    }

    private async Task FinishAsync()
    {
        if (load is not null)
        {
            await StopLoadAsync();
        }
        var w = watcher!;
        // Let the prober see the end of the last migration's window.
        await Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None);
        if (prober is not null)
        {
            await prober.StopAsync(TimeSpan.FromSeconds(5));
            prober.Dispose();
            prober = null;
        }
        using var finish = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await w.PollAsync(finish.Token);
            await w.CheckPlacementAsync(finish.Token);
            await CompareJournalAsync(finish.Token);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            report.JournalMismatches = [$"the final check failed: {e.Message}"];
        }
        var probes = Prober.Read(ProbeFile);
        report.Probes = [.. lab.Vms.Select(vm => ProbeStats(vm.Name, probes.Where(p => p.Vm == vm.Name).ToList()))];
        report.Migrations = [.. w.Migrations.Select(m => Figures(m, w.Decisions.FirstOrDefault(d => d.Id == m.DecisionId)?.At, probes))];
        report.PlacementChecks = w.Checks.Count;
        report.PlacementProblems = w.Problems;
        report.PlacementSamples = w.Checks;
        report.FinalPlacement = w.Placement;
        // The alert is seen firing by a poll once a second; Alertmanager's notification may arrive first, and it
        // cannot precede the firing.
        if (report.FirstWebhookAt < report.AlertFiringAt)
        {
            report.AlertFiringAt = report.FirstWebhookAt;
        }
        report.Events = [.. timeline.Events.OrderBy(e => e.At)];
        report.FinishedAt = DateTimeOffset.UtcNow;
    }

    /// <summary>The journal's view (each VM where its last successful migration took it, else home) against
    /// libvirt's.</summary>
    private async Task CompareJournalAsync(CancellationToken ct)
    {
        var all = (await rebalancer.MigrationsAsync(ct)).Items;
        var mismatches = new List<string>();
        foreach (var vm in lab.Vms)
        {
            var last = all.Where(m => m.Domain == vm.Name && m.Result == "succeeded").MaxBy(m => m.Id);
            var expected = last?.Target ?? vm.HomeHost;
            var actual = watcher!.Placement.Where(p => p.Value?.Contains(vm.Name) == true).Select(p => p.Key).ToList();
            if (actual.Count != 1 || actual[0] != expected)
            {
                mismatches.Add($"{vm.Name}: journal says {expected}, libvirt runs it on {(actual.Count == 0 ? "no host" : string.Join(" and ", actual))}");
            }
            if (all.Any(m => m.Domain == vm.Name && m.Result == "running"))
            {
                mismatches.Add($"{vm.Name}: a migration is still journaled as running");
            }
        }
        report.JournalMismatches = mismatches;
        report.JournalAgreesWithLibvirt = mismatches.Count == 0;
    }

    private BackgroundCommand StartLoad(List<string> vms) =>
        new(Path.Combine(options.RepoRoot, "lab", "load"),
            ["--vm", string.Join(",", vms), "--rate", options.RatePerVm.ToString(CultureInfo.InvariantCulture), "--duration", "10m", "--json"]);

    /// <summary>Stops the current lab/load with SIGTERM and returns its per-VM figures (empty when it printed none).</summary>
    private async Task<IReadOnlyList<LatencyFigures>> StopLoadAsync()
    {
        var current = load!;
        load = null;
        var result = await current.StopAsync(TimeSpan.FromSeconds(15));
        current.Dispose();
        try
        {
            return LatencyFigures.FromLoadReport(result.Output);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            timeline.Note($"lab/load's report unreadable (exit {result.ExitCode}, {e.Message}): {result.Error.Trim()}");
            return [];
        }
    }

    /// <summary>The loaded host's busy ratio over <paramref name="window"/> ending at <paramref name="end"/>, as the
    /// recording rule computes it over 1m (1 - idle share of all CPU time).</summary>
    private async Task<double?> BusyAsync(DateTimeOffset end, TimeSpan window, CancellationToken ct)
    {
        var w = $"{Math.Max(10, (int)window.TotalSeconds)}s";
        var host = options.LoadedHost;
        var query = $"1 - sum(rate(hypervisor_cpu_seconds_total{{host=\"{host}\",mode=\"idle\"}}[{w}])) / sum(rate(hypervisor_cpu_seconds_total{{host=\"{host}\"}}[{w}]))";
        return await prometheus.ScalarAsync(query, end, ct);
    }

    private async Task WaitAsync(string what, TimeSpan timeout, Func<bool> done, Func<string> progress, CancellationToken ct,
        bool checkPlacement = false)
    {
        var w = watcher!;
        var deadline = DateTimeOffset.UtcNow + timeout;
        var started = DateTimeOffset.UtcNow;
        while (true)
        {
            await w.PollAsync(ct);
            if (checkPlacement)
            {
                await w.CheckPlacementAsync(ct);
            }
            if (done())
            {
                return;
            }
            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new DemoFailure($"gave up after {timeout.TotalSeconds:F0} s waiting for {what} ({progress()}){(w.LastError is { } e ? $"; last error: {e}" : "")}");
            }
            if (load is { HasExited: true })
            {
                throw new DemoFailure("lab/load ended early");
            }
            timeline.Progress($"[{(DateTimeOffset.UtcNow - started).TotalSeconds,4:F0} s] {progress()}");
            await Task.Delay(Tick, ct);
        }
    }

    private string ProbeFile => Path.Combine(options.OutDir, "probes.jsonl");

    private static MigrationFigures Figures(MigrationEntry m, DateTimeOffset? decidedAt, IReadOnlyList<ProbeResult> probes)
    {
        var from = m.StartedAt.AddSeconds(-1).ToUnixTimeMilliseconds();
        var to = (m.EndedAt ?? DateTimeOffset.UtcNow).AddSeconds(2).ToUnixTimeMilliseconds();
        var window = probes.Where(p => p.Vm == m.Domain && p.SentAtMs >= from && p.SentAtMs <= to).OrderBy(p => p.SentAtMs).ToList();
        return new MigrationFigures(m.Id, m.Domain, m.Source, m.Target, m.Kind ?? "", decidedAt, m.StartedAt, m.EndedAt,
            m.EndedAt is { } end ? Math.Round((end - m.StartedAt).TotalSeconds, 2) : null, m.Result,
            window.Count, window.Count(p => !p.Ok), LongestOutage(window));
    }

    private static ProbeFigures ProbeStats(string vm, List<ProbeResult> probes) =>
        new(vm, probes.Count, probes.Count(p => !p.Ok), LongestOutage([.. probes.OrderBy(p => p.SentAtMs)]));

    /// <summary>The longest time without an answered probe: from the first failed probe of a run of failures to the
    /// next probe that was answered (or the last failed one's send time plus its timeout).</summary>
    internal static double LongestOutage(IReadOnlyList<ProbeResult> ordered)
    {
        double longest = 0;
        long? runStart = null;
        foreach (var p in ordered)
        {
            if (!p.Ok)
            {
                runStart ??= p.SentAtMs;
                continue;
            }
            if (runStart is { } s)
            {
                longest = Math.Max(longest, (p.SentAtMs - s) / 1000.0);
                runStart = null;
            }
        }
        if (runStart is { } open && ordered.Count > 0)
        {
            longest = Math.Max(longest, (ordered[^1].SentAtMs + 1000 - open) / 1000.0);
        }
        return Math.Round(longest, 1);
    }

    private static string List(IReadOnlyList<string>? items) => items is null ? "unknown" : items.Count == 0 ? "none" : string.Join(", ", items);
}

internal sealed class DemoFailure(string message) : Exception(message);
