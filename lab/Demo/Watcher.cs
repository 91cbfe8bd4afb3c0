namespace Loadshift.Lab.Demo;

/// <summary>Learns what happens from the outside, as an operator would: Prometheus' alerts, the Rebalancer's
/// journal (receipts, decisions, migrations) and libvirt's placement on every host. Each poll turns what is new
/// into timeline events; every few seconds it checks that each VM runs on exactly one host.</summary>
internal sealed class Watcher(LabState lab, PrometheusApi prometheus, RebalancerApi rebalancer, Libvirt libvirt,
    Timeline timeline, DemoReport report, string alertName, string loadedHost)
{
    private static readonly TimeSpan PlacementEvery = TimeSpan.FromSeconds(2);
    private readonly HashSet<long> seenReceipts = [];
    private readonly HashSet<long> seenDecisions = [];
    private readonly HashSet<long> pastMigrations = [];
    private readonly HashSet<long> startedMigrations = [];
    private readonly HashSet<long> endedMigrations = [];
    private readonly List<PlacementCheck> checks = [];
    private readonly List<string> problems = [];
    private DateTimeOffset lastPlacement = DateTimeOffset.MinValue;
    private string? alertState;

    /// <summary>This run's migrations, oldest first.</summary>
    public IReadOnlyList<MigrationEntry> Migrations { get; private set; } = [];

    public IReadOnlyList<DecisionEntry> Decisions { get; private set; } = [];

    public IReadOnlyDictionary<string, IReadOnlyList<string>?> Placement { get; private set; } =
        new Dictionary<string, IReadOnlyList<string>?>();

    public double? LoadedHostBusy { get; private set; }

    public string? AlertState => alertState;

    public DateTimeOffset? AlertActiveAt { get; private set; }

    public string? LastError { get; private set; }

    public IReadOnlyList<PlacementCheck> Checks => checks;

    public IReadOnlyList<string> Problems => problems;

    public bool MigrationRunning => Migrations.Any(m => m.EndedAt is null);

    /// <summary>Journal entries from before this run (an earlier demo, a crash) are not this run's events.</summary>
    public void ForgetPast(IEnumerable<ReceiptEntry> receipts, IEnumerable<DecisionEntry> decisions, IEnumerable<MigrationEntry> migrations)
    {
        Migrations = [];
        seenReceipts.UnionWith(receipts.Select(r => r.Id));
        seenDecisions.UnionWith(decisions.Select(d => d.Id));
        pastMigrations.UnionWith(migrations.Select(m => m.Id));
    }

    public async Task PollAsync(CancellationToken ct)
    {
        try
        {
            await PollAlertsAsync(ct);
            await PollJournalAsync(ct);
            if (DateTimeOffset.UtcNow - lastPlacement >= PlacementEvery)
            {
                await CheckPlacementAsync(ct);
            }
            LastError = null;
        }
        catch (Exception e) when (e is HttpRequestException or InvalidDataException or System.Text.Json.JsonException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            // One missed poll is not an event; the next one catches up (the journal keeps everything).
            LastError = e.Message;
        }
    }

    private async Task PollAlertsAsync(CancellationToken ct)
    {
        LoadedHostBusy = await prometheus.ScalarAsync($"host:hypervisor_cpu_busy:ratio_rate1m{{host=\"{loadedHost}\"}}", null, ct);
        var alert = (await prometheus.AlertsAsync(ct)).FirstOrDefault(a => a.Name == alertName && a.Host == loadedHost);
        var state = alert?.State;
        if (state == alertState)
        {
            return;
        }
        var busy = LoadedHostBusy is { } b ? $" ({loadedHost} busy {Format.Percent(b)})" : "";
        switch (state)
        {
            case "pending":
                AlertActiveAt = alert!.ActiveAt;
                report.AlertPendingAt ??= alert.ActiveAt;
                timeline.Add(alert.ActiveAt, "alert_pending", $"{alertName} pending: {loadedHost} over the high watermark{busy}");
                break;
            case "firing":
                AlertActiveAt = alert!.ActiveAt;
                report.AlertPendingAt ??= alert.ActiveAt;
                report.AlertFiringAt ??= DateTimeOffset.UtcNow;
                timeline.Add(DateTimeOffset.UtcNow, "alert_firing", $"{alertName} firing for {loadedHost}{busy}");
                break;
            case null when alertState == "firing":
                report.AlertResolvedAt ??= DateTimeOffset.UtcNow;
                timeline.Add(DateTimeOffset.UtcNow, "alert_resolved", $"{alertName} resolved: {loadedHost} under the high watermark{busy}");
                break;
            case null:
                timeline.Add(DateTimeOffset.UtcNow, "alert_inactive", $"{alertName} no longer pending{busy}");
                break;
            default:
                break;
        }
        alertState = state;
    }

    private async Task PollJournalAsync(CancellationToken ct)
    {
        foreach (var receipt in (await rebalancer.ReceiptsAsync(ct)).Items.OrderBy(r => r.Id).Where(r => seenReceipts.Add(r.Id)))
        {
            if (receipt.Status == "firing")
            {
                report.FirstWebhookAt ??= receipt.ReceivedAt;
            }
            timeline.Add(receipt.ReceivedAt, "webhook_" + (receipt.Status ?? "unknown"),
                $"webhook received by the Rebalancer: {receipt.Status} ({receipt.AlertCount} alert{(receipt.AlertCount == 1 ? "" : "s")})");
        }

        Decisions = (await rebalancer.DecisionsAsync(ct)).Items;
        foreach (var decision in Decisions.OrderBy(d => d.Id).Where(d => d.Outcome == "migrate" && seenDecisions.Add(d.Id)))
        {
            if (decision.Kind == "relief")
            {
                report.FirstDecisionAt ??= decision.At;
            }
            var busy = decision.SourceBusyBefore is { } before && decision.SourceBusyAfter is { } after
                ? $", {decision.Source} predicted {Format.Percent(before)} -> {Format.Percent(after)}" : "";
            timeline.Add(decision.At, "decision", $"decision ({decision.Kind}, {decision.Reason}): move {decision.Domain} {decision.Source} -> {decision.Target}{busy}",
                decision.Domain, decision.Source, decision.Target);
        }

        Migrations = [.. (await rebalancer.MigrationsAsync(ct)).Items.Where(m => !pastMigrations.Contains(m.Id)).OrderBy(m => m.Id)];
        foreach (var m in Migrations)
        {
            if (startedMigrations.Add(m.Id))
            {
                timeline.Add(m.StartedAt, "migration_start", $"migration start: {m.Domain} {m.Source} -> {m.Target} ({m.Kind})", m.Domain, m.Source, m.Target);
            }
            if (m.EndedAt is { } ended && endedMigrations.Add(m.Id))
            {
                if (m.Kind == "relief" && m.Result == "succeeded")
                {
                    report.FirstMigrationDoneAt ??= ended;
                }
                timeline.Add(ended, "migration_end",
                    $"migration end: {m.Domain} {m.Source} -> {m.Target} {m.Result} in {(ended - m.StartedAt).TotalSeconds:F1} s",
                    m.Domain, m.Source, m.Target);
            }
        }
    }

    public async Task CheckPlacementAsync(CancellationToken ct)
    {
        lastPlacement = DateTimeOffset.UtcNow;
        var placement = await libvirt.PlacementAsync(ct);
        Placement = placement;
        var now = DateTimeOffset.UtcNow;
        var found = new List<string>();
        foreach (var vm in lab.Vms)
        {
            var on = placement.Where(p => p.Value?.Contains(vm.Name) == true).Select(p => p.Key).ToList();
            var unknown = placement.Where(p => p.Value is null).Select(p => p.Key).ToList();
            if (on.Count > 1)
            {
                found.Add($"{vm.Name} running on {string.Join(" and ", on)}");
            }
            else if (on.Count == 0 && unknown.Count == 0 && !InMigration(vm.Name, now))
            {
                found.Add($"{vm.Name} running on no host, outside a migration");
            }
            else if (on.Count == 0 && unknown.Count > 0)
            {
                found.Add($"{vm.Name} not found; {string.Join(", ", unknown)} did not answer");
            }
        }
        checks.Add(new PlacementCheck(now, placement, found));
        foreach (var problem in found)
        {
            problems.Add($"{now:HH:mm:ss.f}: {problem}");
            timeline.Add(now, "placement_problem", problem);
        }
    }

    /// <summary>A VM may be running on no host for an instant at the switch-over: paused on both ends.</summary>
    private bool InMigration(string vm, DateTimeOffset at) =>
        Migrations.Any(m => m.Domain == vm && m.StartedAt <= at + TimeSpan.FromSeconds(2)
            && (m.EndedAt is null || m.EndedAt.Value >= at - TimeSpan.FromSeconds(2)));
}
