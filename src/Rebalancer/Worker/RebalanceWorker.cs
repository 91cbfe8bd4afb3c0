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
/// asks the planner for the pass's decisions (<see cref="Planner.PlanPass"/>: drains first, then relief for hosts whose
/// alert fires, then the return home, with the decision window and settling gates), which it journals and carries out.</summary>
public sealed partial class RebalanceWorker(
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

    /// <summary>The hard rules the placement broke at the last pass (GET /api/v1/status).</summary>
    public IReadOnlyList<RuleViolation> LastViolations { get; private set; } = [];

    /// <summary>One look and at most one decision per host. Passes never overlap.</summary>
    public async Task RunPassAsync(CancellationToken cancellationToken)
    {
        await passGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await executor.ResolveOpenMigrationsAsync(cancellationToken).ConfigureAwait(false);
            await ExpireAlertsAsync(cancellationToken).ConfigureAwait(false);
            await ExpireRecommendationsAsync(cancellationToken).ConfigureAwait(false);
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
            var violations = Planner.Violations(input);
            foreach (var rule in RebalancerMetrics.HardRuleNames)
            {
                metrics.RuleViolations.WithLabels(rule).Set(violations.Count(v => v.Rule == rule));
            }
            // Logged when first found, not every pass.
            foreach (var violation in violations.Where(v => !LastViolations.Any(l => l.Detail == v.Detail)))
            {
                Log.RuleViolated(logger, violation.Rule, violation.Host, violation.Detail);
            }
            LastViolations = violations;

            var now = time.GetUtcNow();
            var lastDecisions = await journal.GetLastDecisionsAsync(now - policy.DecisionWindow, cancellationToken).ConfigureAwait(false);
            var firing = await FiringHostsAsync(cancellationToken).ConfigureAwait(false);
            var memoryFiring = await FiringHostsAsync(policy.MemoryAlertName, cancellationToken).ConfigureAwait(false);
            var pass = new PassInput(input, snapshot.Maintenance, firing, lastDecisions, policy.DryRun, MemoryFiring: memoryFiring);
            foreach (var decision in Planner.PlanPass(pass))
            {
                await ActAsync(decision, snapshot, input, cancellationToken).ConfigureAwait(false);
            }
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
        decisions.AddRange((await FiringHostsAsync(policy.MemoryAlertName, cancellationToken).ConfigureAwait(false))
            .Select(h => Planner.PlanMemoryRelief(input, h)));
        decisions.Add(Planner.PlanRuleRepair(input));
        decisions.Add(Planner.PlanReturnHome(input));
        return decisions;
    }

    /// <summary>Hosts whose HypervisorCpuHigh (action="rebalance") fires according to the journal, re-sent by
    /// Alertmanager within policy.alertExpiry.</summary>
    public Task<IReadOnlyList<string>> FiringHostsAsync(CancellationToken cancellationToken) => FiringHostsAsync(policy.AlertName, cancellationToken);

    /// <summary>Hosts whose <paramref name="alertName"/> (action="rebalance") fires according to the journal.</summary>
    public async Task<IReadOnlyList<string>> FiringHostsAsync(string alertName, CancellationToken cancellationToken)
    {
        var alerts = await journal.GetFiringAlertsAsync(alertName, ExpiryCutoff(), cancellationToken).ConfigureAwait(false);
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
        var planning = PlanningPolicy.From(policy);
        var recentMoves = await journal.GetRecentMovesAsync(now - planning.RecentMovesReach, cancellationToken).ConfigureAwait(false);
        var migrationEnds = await journal.GetMigrationEndsSinceAsync(now - policy.SettleTime, cancellationToken).ConfigureAwait(false);
        return ClusterObserver.ToPlanningInput(snapshot, inventory, policy, history, inFlight, now, settling, recentMoves, migrationEnds);
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

    /// <summary>Journals the pass's decision and, for a move (not a dry run), starts its migration.</summary>
    private async Task ActAsync(Decision decision, ClusterSnapshot snapshot, PlanningInput input, CancellationToken cancellationToken)
    {
        // policy.automation: a move that may not act at once waits as a recommendation, one at a time per kind and host.
        var level = decision.Migration is { } proposed ? Automation.LevelOf(policy, proposed.Domain) : Automation.Full;
        var waits = !policy.DryRun && !Automation.Acts(level, decision.Kind);
        if (waits && decision.Migration is not null && await journal.HasOpenRecommendationAsync(decision.Kind, decision.Host,
            time.GetUtcNow() - policy.RecommendationExpiry, cancellationToken).ConfigureAwait(false))
        {
            return;
        }
        var decisionId = await RecordAsync(decision, snapshot, input, cancellationToken).ConfigureAwait(false);
        if (decision.Migration is not { } migration || policy.DryRun)
        {
            return;
        }
        if (waits)
        {
            await RecommendAsync(decisionId, decision.Kind, decision.Host, migration, level, cancellationToken).ConfigureAwait(false);
            return;
        }
        await LaunchAsync(decision.Kind, migration, decisionId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Starts a migration and runs it in the background. Journaled and tracked before this returns: a pass
    /// woken by the next webhook sees it in flight.</summary>
    private async Task<StartedMigration> LaunchAsync(DecisionKind kind, MigrationPlan migration, long decisionId, CancellationToken cancellationToken)
    {
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
        return started;
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
