using Loadshift.Rebalancer.Inventory;
using Loadshift.Rebalancer.Planning;
using Loadshift.Simulator.Simulation;

namespace Loadshift.Simulator.Policies;

/// <summary>The Rebalancer itself: every pass is <see cref="Planner.PlanPass"/>'s, as RebalanceWorker's (drains first,
/// then relief for each host whose alert fires, then the return home, with the decision window and settling gates, the
/// cooldown, back-off, move limit, watermarks, memory fit and in-flight limit inside it) on a <see cref="PlanningInput"/>
/// built from the simulated cluster as ClusterObserver builds it from libvirt and Prometheus, and the last decisions
/// kept here as the journal keeps them.</summary>
/// <remarks>The return home is not asked for when a cheap necessary condition says it would answer no action (which
/// is never journaled) unless <paramref name="everyCall"/>: the moves are the same either way (a test checks it); the
/// shortcut keeps a week of 10,000 domains within a minute.</remarks>
public sealed class LoadshiftPolicy(PolicyOptions options, DateTimeOffset start, bool everyCall = false) : IPolicy
{
    private readonly PlanningPolicy policy = PlanningPolicy.From(options);
    private readonly Dictionary<(DecisionKind Kind, string Host), LastDecision> lastDecisions = [];

    public string Name => "loadshift";

    public string Description =>
        $"src/Rebalancer/Planning/Planner.cs on the inventory's policy: high {options.HighWatermark:0.00}, low {options.LowWatermark:0.00}, relief margin {options.ReliefMargin:0.00}, " +
        $"cooldown {Seconds(options.Cooldown)} (x{options.CooldownBackoff} per move in {Seconds(options.BackoffWindow)}, at most {Seconds(options.MaxCooldown)}), " +
        $"settle {Seconds(options.SettleTime)}, return home after {Seconds(options.ReturnHomeAfter)} under low, decision window {Seconds(options.DecisionWindow)}, " +
        $"{options.MaxMigrationsInFlight} migration(s) in flight; relief when HypervisorCpuHigh fires";

    /// <summary>How often the planner was asked for relief and for a return home.</summary>
    public long ReliefCalls { get; private set; }

    public long ReturnCalls { get; private set; }

    /// <summary>Every decision the planner took, in order (the tests compare them with the lab demo's journal), without
    /// the candidates and rejected targets each explains itself with, and a no-action without its detail: a week of 200
    /// hosts takes some 200,000 decisions, and with them the simulator held 1.3 GiB.</summary>
    public List<(double At, Decision Decision)> Decisions { get; } = [];

    public void Act(ClusterState cluster)
    {
        var maintenance = Enumerable.Range(0, cluster.HostCount).Where(h => cluster.Maintenance[h]).Select(h => cluster.Hosts[h].Name).ToList();
        // The firing alerts in the order they fired (the journal's order of receipts).
        var firing = Enumerable.Range(0, cluster.HostCount).Where(cluster.Firing).OrderBy(h => cluster.FiringSince[h]).ThenBy(h => h)
            .Select(h => cluster.Hosts[h].Name).ToList();
        // HypervisorMemoryHigh without its `for`: the simulated memory does not change but by migrations.
        var memoryFiring = Enumerable.Range(0, cluster.HostCount).Where(h => cluster.MemoryShare(h) > options.MemoryHighWatermark)
            .Select(h => cluster.Hosts[h].Name).ToList();
        var returnHome = MayReturn(cluster);
        if (maintenance.Count == 0 && firing.Count == 0 && memoryFiring.Count == 0 && !returnHome)
        {
            return;
        }
        var input = BuildInput(cluster);
        if (returnHome)
        {
            ReturnCalls++;
        }
        foreach (var decision in Planner.PlanPass(new PassInput(input, maintenance, firing, lastDecisions, options.DryRun, returnHome, memoryFiring)))
        {
            if (decision.Kind == DecisionKind.Relief && decision.Reason != Reasons.Settling)
            {
                ReliefCalls++;
            }
            Record(cluster, decision);
        }
    }

    /// <summary>A cheap necessary condition for PlanReturnHome to move anything (a domain away whose home host
    /// was calm, room in flight); when it fails the planner would answer no action, which the worker does not
    /// journal, so skipping the call changes nothing and saves a look at every domain.</summary>
    private bool MayReturn(ClusterState cluster)
    {
        if (cluster.Away.Count == 0 || cluster.InFlight.Count >= options.MaxMigrationsInFlight || !cluster.HasBusyRatio)
        {
            return false;
        }
        if (everyCall)
        {
            return true;
        }
        foreach (var d in cluster.Away)
        {
            var home = cluster.Home[d];
            var host = cluster.HostOf[d];
            // Two of the planner's conditions for a return, each necessary: a calm home, and the move keeps it under
            // the low watermark (the Watermark rule of a return home). (Not the memory: the planner counts a domain in
            // flight on its source only.)
            if (!cluster.Pinned[d] && cluster.CalmWindowMax(home) < options.LowWatermark
                && cluster.BusyRatio[home] + (cluster.Share(d) * cluster.Capacity[host] / cluster.Capacity[home]) < options.LowWatermark)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Journals the decision as the worker does (its kind and host's last decision) and starts its migration.</summary>
    private void Record(ClusterState cluster, Decision decision)
    {
        Decisions.Add((cluster.Now, decision with { Detail = decision.Migration is null ? "" : decision.Detail, Rejected = null, Considered = null }));
        var at = At(cluster.Now);
        lastDecisions[(decision.Kind, decision.Host)] = new LastDecision(at,
            decision.Reason == Reasons.Settling ? lastDecisions.GetValueOrDefault((decision.Kind, decision.Host))?.NotSettlingAt : at);
        if (decision.Migration is not { } plan || options.DryRun)
        {
            return;
        }
        var kind = decision.Kind switch
        {
            DecisionKind.Relief => MoveKind.Relief,
            DecisionKind.ReturnHome => MoveKind.ReturnHome,
            DecisionKind.MemoryRelief => MoveKind.MemoryRelief,
            DecisionKind.RuleRepair => MoveKind.RuleRepair,
            _ => MoveKind.Drain,
        };
        cluster.StartMigration(DomainIndex(cluster, plan.Domain), HostIndex(cluster, plan.Target), kind,
            kind == MoveKind.Relief ? plan.SourceBusyAfter < options.HighWatermark : null);
    }

    private DomainView[]? domainViews;
    private long domainViewsStep = -1;
    private Dictionary<string, DomainHistory>? history;
    private List<RecentMove>? recentMoves;
    private int historyMovesEnded = -1;
    private double historyExpiry;
    private Dictionary<string, int>? domainIndex;
    private Dictionary<string, int>? hostIndex;

    private int DomainIndex(ClusterState cluster, string name)
    {
        domainIndex ??= Enumerable.Range(0, cluster.DomainCount).ToDictionary(cluster.Name, d => d, StringComparer.Ordinal);
        return domainIndex[name];
    }

    private int HostIndex(ClusterState cluster, string name)
    {
        hostIndex ??= Enumerable.Range(0, cluster.HostCount).ToDictionary(h => cluster.Hosts[h].Name, h => h, StringComparer.Ordinal);
        return hostIndex[name];
    }

    private DateTimeOffset At(double seconds) => start.AddSeconds(seconds);

    /// <summary>What ClusterObserver.ToPlanningInput makes of libvirt, Prometheus and the journal, from the
    /// simulated cluster: capacities from the inventory, busy ratios and shares as the recording rules give them,
    /// the calm window's maximum, the settling hosts, each domain's history and the migrations in flight (the
    /// migrating domain shown on both hosts, as libvirt shows it).</summary>
    internal PlanningInput BuildInput(ClusterState cluster)
    {
        var now = cluster.Now;
        var hosts = new List<HostView>(cluster.HostCount);
        for (var h = 0; h < cluster.HostCount; h++)
        {
            var host = cluster.Hosts[h];
            hosts.Add(new HostView(host.Name, host.CpuCapacity, host.MemoryBytes,
                cluster.HasBusyRatio ? cluster.BusyRatio[h] : null,
                cluster.HasBusyRatio ? cluster.CalmWindowMax(h) : null,
                null, cluster.Maintenance[h], Reachable: true,
                Settling: now - cluster.LastReceivedEnd[h] < options.SettleTime.TotalSeconds,
                LastMigrationEndedAt: double.IsFinite(cluster.LastMigrationEnd[h]) ? At(cluster.LastMigrationEnd[h]) : null));
        }
        // The domains change with the trace's step and with migrations only: all built again at a new step, those on
        // the hosts a migration touched after one, not every tick.
        if (domainViews is null || cluster.StepVersion != domainViewsStep)
        {
            domainViews = new DomainView[cluster.DomainCount];
            for (var d = 0; d < cluster.DomainCount; d++)
            {
                domainViews[d] = View(cluster, d);
            }
            domainViewsStep = cluster.StepVersion;
            cluster.TouchedHosts.Clear();
        }
        else if (cluster.TouchedHosts.Count > 0)
        {
            for (var d = 0; d < cluster.DomainCount; d++)
            {
                if (cluster.TouchedHosts.Contains(cluster.HostOf[d]) || (cluster.MigratingTo[d] >= 0 && cluster.TouchedHosts.Contains(cluster.MigratingTo[d])))
                {
                    domainViews[d] = View(cluster, d);
                }
            }
            cluster.TouchedHosts.Clear();
        }
        // The history changes when a migration ends, and when a move leaves the back-off window.
        if (history is null || cluster.MovesEnded != historyMovesEnded || now >= historyExpiry)
        {
            history = new Dictionary<string, DomainHistory>(StringComparer.Ordinal);
            historyExpiry = double.PositiveInfinity;
            historyMovesEnded = cluster.MovesEnded;
            var backoff = options.BackoffWindow.TotalSeconds;
            foreach (var (d, starts) in cluster.MoveStarts)
            {
                if (double.IsNaN(cluster.LastMoveEnd[d]))
                {
                    continue;
                }
                // Only migrations that ended count (the journal's succeeded ones); the one in flight is in InFlight.
                var ended = cluster.MigratingTo[d] >= 0 ? starts.Count - 1 : starts.Count;
                var recent = 0;
                for (var i = 0; i < ended; i++)
                {
                    if (starts[i] >= now - backoff)
                    {
                        recent++;
                        historyExpiry = Math.Min(historyExpiry, starts[i] + backoff);
                    }
                }
                history[cluster.Name(d)] = new DomainHistory(At(cluster.LastMoveStart[d]), At(cluster.LastMoveEnd[d]), recent);
            }
            recentMoves = RecentMoves(cluster);
        }
        var inFlight = cluster.InFlight
            .Select(m => new MigrationInFlight(cluster.Name(m.Domain), cluster.Hosts[m.Source].Name, cluster.Hosts[m.Target].Name, At(m.StartedAt)))
            .ToList();
        return new PlanningInput(hosts, domainViews, history, inFlight, policy, At(now), cluster.Rules, recentMoves);
    }

    /// <summary>The journal's recent successful migrations: those that ended within the planner's reach, oldest first.
    /// Built when a migration ends; one that ages out before the next is still listed, which the rules, reading the
    /// times, ignore.</summary>
    private List<RecentMove> RecentMoves(ClusterState cluster)
    {
        var since = cluster.Now - policy.RecentMovesReach.TotalSeconds;
        var moves = new List<RecentMove>();
        // Moves are listed by start; none lasts longer than the reach (policy.migrationTimeout is minutes), so the scan
        // stops at the first that started before twice the reach.
        for (var i = cluster.Moves.Count - 1; i >= 0 && cluster.Moves[i].StartedAt >= since - policy.RecentMovesReach.TotalSeconds; i--)
        {
            var move = cluster.Moves[i];
            if (move.EndsAt <= cluster.Now && move.EndsAt >= since)
            {
                moves.Add(new RecentMove(cluster.Name(move.Domain), cluster.Hosts[move.Source].Name, cluster.Hosts[move.Target].Name,
                    At(move.StartedAt), At(move.EndsAt)));
            }
        }
        moves.Reverse();
        return moves;
    }

    private static DomainView View(ClusterState cluster, int d) =>
        new(cluster.Name(d), cluster.Hosts[cluster.HostOf[d]].Name, cluster.Share(d), cluster.Memory(d),
            cluster.Hosts[cluster.Home[d]].Name, cluster.Pinned[d],
            cluster.MigratingTo[d] >= 0 ? cluster.Hosts[cluster.MigratingTo[d]].Name : null);

    private static string Seconds(TimeSpan t) => DurationConverter.Format(t);
}
