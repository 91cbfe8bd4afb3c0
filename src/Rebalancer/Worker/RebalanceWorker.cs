using System.Globalization;
using System.Text;
using Loadshift.Rebalancer.Cluster;
using Loadshift.Rebalancer.Execution;
using Loadshift.Rebalancer.Inventory;
using Loadshift.Rebalancer.Journal;
using Loadshift.Rebalancer.Metrics;
using Loadshift.Rebalancer.Planning;
using Loadshift.Rebalancer.Webhook;
using Microsoft.Extensions.Options;

namespace Loadshift.Rebalancer.Worker;

/// <summary>The loop that replaces the seed's cron job: on every wake-up (webhook, migration end) and every
/// policy.checkInterval it looks at the cluster, resolves open migrations, verifies the moves that have settled, and
/// decides: drains first, then relief for hosts whose alert fires, then the return home.</summary>
public sealed class RebalanceWorker(
    ClusterObserver observer,
    SqliteJournal journal,
    MigrationExecutor executor,
    MigrationTracker tracker,
    WorkerSignal signal,
    RebalancerMetrics metrics,
    IOptions<InventoryOptions> inventoryOptions,
    IOptions<PolicyOptions> policyOptions,
    IOptions<JournalOptions> journalOptions,
    TimeProvider time,
    ILogger<RebalanceWorker> logger) : BackgroundService
{
    private static readonly TimeSpan PruneEvery = TimeSpan.FromHours(1);
    private readonly InventoryOptions inventory = inventoryOptions.Value;
    private readonly PolicyOptions policy = policyOptions.Value;
    private readonly ClusterGauges gauges = new(metrics, inventoryOptions.Value);
    private readonly MoveVerifier verifier = new(journal, metrics, policyOptions.Value, time, logger);
    private readonly SemaphoreSlim passGate = new(1, 1);
    private readonly List<Task> migrations = [];
    private DateTimeOffset prunedAt = DateTimeOffset.MinValue;

    /// <summary>Since when this process can hear Alertmanager: a Rebalancer that was down heard no repeats, and
    /// Alertmanager sends what it holds within a group_interval once it is back.</summary>
    private readonly DateTimeOffset listeningSince = time.GetUtcNow();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Log.WorkerStarted(logger, policy.DryRun, policy.CheckInterval.TotalSeconds);
        using var timer = new PeriodicTimer(policy.CheckInterval, time);
        Task tick = Task.CompletedTask;
        Task wake = signal.WaitAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunPassAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The service must outlive one bad pass (a journal hiccup, an answer of unexpected shape): log, look again.
                Log.PassFailed(logger, e.Message, e);
            }
            if (tick.IsCompleted)
            {
                tick = timer.WaitForNextTickAsync(stoppingToken).AsTask();
            }
            try
            {
                var woke = await Task.WhenAny(tick, wake).ConfigureAwait(false);
                await woke.ConfigureAwait(false);
                if (woke == wake)
                {
                    wake = signal.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        Task[] pending;
        lock (migrations)
        {
            pending = [.. migrations];
        }
        await Task.WhenAll(pending.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default))).ConfigureAwait(false);
    }

    /// <summary>One look and at most one decision per host. Passes never overlap.</summary>
    public async Task RunPassAsync(CancellationToken cancellationToken)
    {
        await passGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await executor.ResolveOpenMigrationsAsync(cancellationToken).ConfigureAwait(false);
            await ExpireAlertsAsync(cancellationToken).ConfigureAwait(false);
            await PruneAsync(cancellationToken).ConfigureAwait(false);
            var snapshot = await observer.ObserveAsync(cancellationToken).ConfigureAwait(false);
            // Before the decisions: a verdict that lengthens a domain's cooldown counts in this pass, and the busy
            // ratios are those before any move this pass starts.
            await verifier.VerifyDueAsync(snapshot.Load, cancellationToken).ConfigureAwait(false);
            var input = await BuildInputAsync(snapshot, cancellationToken).ConfigureAwait(false);
            foreach (var domain in input.Domains)
            {
                metrics.DomainObserved(domain.Name);
            }
            gauges.Saw(snapshot, input);

            foreach (var host in snapshot.Maintenance.Order(StringComparer.Ordinal))
            {
                input = await DecideAsync(input, snapshot, DecisionKind.Drain, host, i => Planner.PlanDrain(i, host), cancellationToken).ConfigureAwait(false);
            }
            foreach (var host in await FiringHostsAsync(cancellationToken).ConfigureAwait(false))
            {
                input = await DecideAsync(input, snapshot, DecisionKind.Relief, host, i => Planner.PlanRelief(i, host), cancellationToken).ConfigureAwait(false);
            }
            await DecideAsync(input, snapshot, DecisionKind.ReturnHome, null, Planner.PlanReturnHome, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            passGate.Release();
        }
    }

    /// <summary>Journals as resolved, logs and counts the firing alerts Alertmanager stopped re-sending
    /// (policy.alertExpiry). <see cref="FiringHostsAsync"/> leaves them out already; this says so in the journal.</summary>
    private async Task ExpireAlertsAsync(CancellationToken cancellationToken)
    {
        if (ExpiryCutoff() == DateTimeOffset.MinValue)
        {
            return;
        }
        foreach (var alert in await journal.ExpireAlertsAsync(time.GetUtcNow(), policy.AlertExpiry, cancellationToken).ConfigureAwait(false))
        {
            metrics.AlertsExpired.Inc();
            Log.AlertExpired(logger, alert.AlertName ?? "", alert.Host ?? "", alert.Fingerprint, alert.LastReceivedAt, policy.AlertExpiry.TotalSeconds);
        }
    }

    /// <summary>A firing alert last received before this has expired: policy.alertExpiry ago, once this process has
    /// listened that long (before, none has).</summary>
    private DateTimeOffset ExpiryCutoff()
    {
        var cutoff = time.GetUtcNow() - policy.AlertExpiry;
        return cutoff < listeningSince ? DateTimeOffset.MinValue : cutoff;
    }

    private async Task PruneAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (now - prunedAt < PruneEvery)
        {
            return;
        }
        prunedAt = now;
        await journal.PruneReceiptsAsync(now - journalOptions.Value.ReceiptRetention, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>What the worker would decide now, journaling and migrating nothing (POST /api/v1/plan).</summary>
    public async Task<IReadOnlyList<Decision>> PreviewAsync(string? host, CancellationToken cancellationToken)
    {
        var snapshot = await observer.ObserveAsync(cancellationToken).ConfigureAwait(false);
        var input = await BuildInputAsync(snapshot, cancellationToken).ConfigureAwait(false);
        if (host is not null)
        {
            return [snapshot.Maintenance.Contains(host) ? Planner.PlanDrain(input, host) : Planner.PlanRelief(input, host)];
        }
        var decisions = snapshot.Maintenance.Order(StringComparer.Ordinal).Select(h => Planner.PlanDrain(input, h)).ToList();
        decisions.AddRange((await FiringHostsAsync(cancellationToken).ConfigureAwait(false)).Select(h => Planner.PlanRelief(input, h)));
        decisions.Add(Planner.PlanReturnHome(input));
        return decisions;
    }

    /// <summary>Hosts whose HypervisorCpuHigh (action="rebalance") fires according to the journal, re-sent by
    /// Alertmanager within policy.alertExpiry.</summary>
    public async Task<IReadOnlyList<string>> FiringHostsAsync(CancellationToken cancellationToken)
    {
        var alerts = await journal.GetFiringAlertsAsync(policy.AlertName, ExpiryCutoff(), cancellationToken).ConfigureAwait(false);
        return [.. alerts
            .Where(a => WebhookEndpoints.IsRelevant(a.AlertName, a.Action, a.Host, policy, inventory))
            .Select(a => a.Host!)
            .Distinct(StringComparer.Ordinal)];
    }

    private async Task<PlanningInput> BuildInputAsync(ClusterSnapshot snapshot, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var history = await journal.GetDomainHistoryAsync(now - policy.BackoffWindow, policy.DidNotHelpCooldownFactor, cancellationToken).ConfigureAwait(false);
        var inFlight = await InFlightAsync(cancellationToken).ConfigureAwait(false);
        var settling = await journal.GetHostsReceivingSinceAsync(now - policy.SettleTime, cancellationToken).ConfigureAwait(false);
        return ClusterObserver.ToPlanningInput(snapshot, inventory, policy, history, inFlight, now, settling);
    }

    /// <summary>The migrations this process runs, and those the journal still shows running that no task here runs
    /// (not resolved yet: libvirt could not say where the domain is).</summary>
    public async Task<IReadOnlyList<MigrationInFlight>> InFlightAsync(CancellationToken cancellationToken)
    {
        var mine = tracker.Ids.ToHashSet();
        var inFlight = tracker.Snapshot().ToList();
        var unresolved = (await journal.GetRunningMigrationsAsync(cancellationToken).ConfigureAwait(false))
            .Where(m => !mine.Contains(m.Id))
            .Select(m => new MigrationInFlight(m.Domain, m.Source, m.Target, m.StartedAt))
            .ToList();
        tracker.Unresolved = unresolved.Count;
        inFlight.AddRange(unresolved);
        return inFlight;
    }

    private async Task<PlanningInput> DecideAsync(PlanningInput input, ClusterSnapshot snapshot, DecisionKind kind, string? host,
        Func<PlanningInput, Decision> plan, CancellationToken cancellationToken)
    {
        if (host is not null && await SettlingAsync(input, host, cancellationToken).ConfigureAwait(false) is { } settling)
        {
            // Said once per window, so that a firing alert with no move has its reason in the journal too.
            if (!await WithinWindowAsync(kind, host, null, cancellationToken).ConfigureAwait(false))
            {
                await RecordAsync(Decision.NoAction(kind, host, Reasons.Settling, settling), snapshot, input, cancellationToken).ConfigureAwait(false);
            }
            return input;
        }
        // Relief: one decision per host per window, however often Alertmanager repeats itself (waiting for a host to
        // settle does not count: the relief follows as soon as it has).
        if (kind == DecisionKind.Relief && await WithinWindowAsync(kind, host!, Reasons.Settling, cancellationToken).ConfigureAwait(false))
        {
            return input;
        }
        var decision = plan(input);
        if (kind == DecisionKind.ReturnHome)
        {
            // Checked every pass: only moves are journaled, once the home host settled from the last one.
            if (decision.Outcome == DecisionOutcome.NoAction || await SettlingAsync(input, decision.Host, cancellationToken).ConfigureAwait(false) is not null)
            {
                return input;
            }
        }
        // Drains and returns move one domain after another; a repeated no-action or dry-run answer is journaled once per window.
        if (kind != DecisionKind.Relief && (decision.Outcome == DecisionOutcome.NoAction || policy.DryRun)
            && await WithinWindowAsync(kind, decision.Host, null, cancellationToken).ConfigureAwait(false))
        {
            return input;
        }
        var decisionId = await RecordAsync(decision, snapshot, input, cancellationToken).ConfigureAwait(false);
        if (decision.Migration is not { } migration || policy.DryRun)
        {
            return input;
        }
        // Journaled and tracked before this pass ends: a pass woken by the next webhook sees it in flight.
        var started = await executor.StartAsync(kind, migration, decisionId, cancellationToken).ConfigureAwait(false);
        var task = Task.Run(async () =>
        {
            try
            {
                // Not cancelled at shutdown: a live migration cut off halfway helps no one; it has its own deadline.
                await executor.RunAsync(started, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is JournalException or OperationCanceledException or HypervisorUnavailableException or CommandFailedException)
            {
                // The executor logged it; the journal row stays running until a pass resolves it from libvirt.
            }
            finally
            {
                signal.Wake();
            }
        }, CancellationToken.None);
        lock (migrations)
        {
            migrations.RemoveAll(t => t.IsCompleted);
            migrations.Add(task);
        }
        return input with { InFlight = [.. input.InFlight, new MigrationInFlight(migration.Domain, migration.Source, migration.Target, started.StartedAt)] };
    }

    /// <summary>Journals, counts and logs a decision with its reason.</summary>
    private async Task<long> RecordAsync(Decision decision, ClusterSnapshot snapshot, PlanningInput input, CancellationToken cancellationToken)
    {
        var dryRun = policy.DryRun && decision.Outcome == DecisionOutcome.Migrate;
        var decisionId = await journal.RecordDecisionAsync(time.GetUtcNow(), decision, policy.DryRun, cancellationToken).ConfigureAwait(false);
        metrics.Decisions.WithLabels(RebalancerMetrics.OutcomeLabel(decision.Outcome, policy.DryRun), decision.Reason).Inc();
        LogDecision(decision, snapshot, input, dryRun);
        return decisionId;
    }

    /// <summary>Why a host gets no decision now, or null: it is in a migration, or one touched it less than
    /// policy.settleTime ago and its 1m busy ratio does not show the move yet.</summary>
    private async Task<string?> SettlingAsync(PlanningInput input, string host, CancellationToken cancellationToken)
    {
        if (tracker.Touches(host) || input.InFlight.Any(m => m.Source == host || m.Target == host))
        {
            return $"{host} is in a migration; its busy ratio shows the move policy.settleTime ({policy.SettleTime.TotalSeconds:0} s) after it ends";
        }
        if (await journal.GetLastMigrationEndAsync(host, cancellationToken).ConfigureAwait(false) is { } ended && time.GetUtcNow() - ended < policy.SettleTime)
        {
            return $"a migration touched {host} until {ended:O}; its busy ratio shows the move at {ended + policy.SettleTime:O} (policy.settleTime)";
        }
        return null;
    }

    /// <summary>Whether a decision of this kind about this host was journaled within policy.decisionWindow
    /// (<paramref name="exceptReason"/>: not counting those with that reason).</summary>
    private async Task<bool> WithinWindowAsync(DecisionKind kind, string host, string? exceptReason, CancellationToken cancellationToken) =>
        await journal.GetLastDecisionAtAsync(kind, host, exceptReason, cancellationToken).ConfigureAwait(false) is { } last
        && time.GetUtcNow() - last < policy.DecisionWindow;

    /// <summary>One line per decision in the spirit of the seed's log.txt: time, action, the host's CPU and
    /// memory, and each domain's load on it.</summary>
    private void LogDecision(Decision decision, ClusterSnapshot snapshot, PlanningInput input, bool dryRun)
    {
        var subject = decision.Migration?.Source ?? decision.Host;
        var host = input.Hosts.FirstOrDefault(h => h.Name == subject);
        var action = decision.Migration is { } m
            ? $"{(dryRun ? "would migrate" : "migrate")} {m.Domain} {m.Source}->{m.Target}"
            : "no action";
        var memory = snapshot.Load?.HostMemoryUsed.TryGetValue(subject, out var used) == true ? used : double.NaN;
        var loads = new StringBuilder();
        foreach (var domain in input.Domains.Where(d => d.Host == subject).OrderBy(d => d.Name, StringComparer.Ordinal))
        {
            loads.Append(loads.Length == 0 ? "" : " ").Append(domain.Name).Append('=').Append(domain.CpuShare.ToString("0.00", CultureInfo.InvariantCulture));
        }
        Log.Decision(logger, snapshot.TakenAt, action, SqliteJournal.KindName(decision.Kind), decision.Reason, subject,
            host?.BusyRatio ?? double.NaN, memory, loads.ToString(), decision.Detail);
    }
}
