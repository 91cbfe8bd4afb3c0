using Loadshift.Rebalancer.Inventory;
using Loadshift.Rebalancer.Planning;
using Loadshift.Simulator.Simulation;

namespace Loadshift.Simulator.Policies;

/// <summary>The Rebalancer itself: every decision is <see cref="Planner"/>'s (PlanDrain, PlanRelief, PlanReturnHome,
/// with the cooldown, back-off, watermarks, memory fit, in-flight limit and settling hosts inside it) on a
/// <see cref="PlanningInput"/> built from the simulated cluster as ClusterObserver builds it from libvirt and
/// Prometheus. The pass around it follows RebalanceWorker.RunPassAsync, whose gates read the SQLite journal and so
/// cannot be called here: drains first, then relief for each host whose alert fires (one decision per host per
/// policy.decisionWindow, none while the host settles from a migration, policy.settleTime), then the return home.</summary>
/// <remarks>Calls whose answer is known to be no action (the host not over the high watermark, the in-flight limit
/// reached, no domain that could return) are not made unless <paramref name="everyCall"/>: the worker journals a
/// relief no-action (it opens the decision window, which is kept here too) and ignores a return-home one, so the
/// moves are the same either way (a test checks it); the shortcut keeps a week of 10,000 domains within a minute.</remarks>
public sealed class LoadshiftPolicy(PolicyOptions options, DateTimeOffset start, bool everyCall = false) : IPolicy
{
    private readonly PlanningPolicy policy = PlanningPolicy.From(options);
    private double[] lastDecision = [];
    private double[] lastDecisionNotSettling = [];
    private double[] lastDrainDecision = [];

    public string Name => "loadshift";

    public string Description =>
        $"src/Rebalancer/Planning/Planner.cs on the inventory's policy: high {options.HighWatermark:0.00}, low {options.LowWatermark:0.00}, " +
        $"cooldown {Seconds(options.Cooldown)} (x{options.CooldownBackoff} per move in {Seconds(options.BackoffWindow)}, at most {Seconds(options.MaxCooldown)}), " +
        $"settle {Seconds(options.SettleTime)}, return home after {Seconds(options.ReturnHomeAfter)} under low, decision window {Seconds(options.DecisionWindow)}, " +
        $"{options.MaxMigrationsInFlight} migration(s) in flight; relief when HypervisorCpuHigh fires";

    /// <summary>How often the planner was asked for relief and for a return home.</summary>
    public long ReliefCalls { get; private set; }

    public long ReturnCalls { get; private set; }

    /// <summary>Every decision the planner took, in order (the tests compare them with the lab demo's journal).</summary>
    public List<(double At, Decision Decision)> Decisions { get; } = [];

    public void Act(ClusterState cluster)
    {
        if (lastDecision.Length == 0)
        {
            lastDecision = Enumerable.Repeat(double.NegativeInfinity, cluster.HostCount).ToArray();
            lastDecisionNotSettling = Enumerable.Repeat(double.NegativeInfinity, cluster.HostCount).ToArray();
            lastDrainDecision = Enumerable.Repeat(double.NegativeInfinity, cluster.HostCount).ToArray();
        }
        var now = cluster.Now;
        PlanningInput? input = null;
        PlanningInput Input() => input ??= BuildInput(cluster);

        for (var h = 0; h < cluster.HostCount; h++)
        {
            if (!cluster.Maintenance[h])
            {
                continue;
            }
            if (Settling(cluster, h))
            {
                continue;
            }
            var host = cluster.Hosts[h].Name;
            var drain = Planner.PlanDrain(Input(), host);
            if (drain.Outcome == DecisionOutcome.NoAction && now - lastDrainDecision[h] < options.DecisionWindow.TotalSeconds)
            {
                continue;
            }
            lastDrainDecision[h] = now;
            input = Record(cluster, Input(), drain, MoveKind.Drain);
        }

        // The firing alerts in the order they fired (the journal's order of receipts).
        var firing = Enumerable.Range(0, cluster.HostCount).Where(cluster.Firing).OrderBy(h => cluster.FiringSince[h]).ThenBy(h => h);
        foreach (var h in firing)
        {
            if (Settling(cluster, h))
            {
                // The worker journals a settling no-action once per window; it opens no window for the relief.
                if (now - lastDecision[h] >= options.DecisionWindow.TotalSeconds)
                {
                    lastDecision[h] = now;
                }
                continue;
            }
            if (now - lastDecisionNotSettling[h] < options.DecisionWindow.TotalSeconds)
            {
                continue;
            }
            if (!everyCall && (cluster.BusyRatio[h] <= options.HighWatermark || cluster.InFlight.Count >= options.MaxMigrationsInFlight))
            {
                // PlanRelief answers not_overloaded or in_flight_limit here, a no-action the worker journals.
                lastDecision[h] = lastDecisionNotSettling[h] = now;
                continue;
            }
            ReliefCalls++;
            var decision = Planner.PlanRelief(Input(), cluster.Hosts[h].Name);
            lastDecision[h] = lastDecisionNotSettling[h] = now;
            input = Record(cluster, Input(), decision, MoveKind.Relief);
        }

        if (MayReturn(cluster))
        {
            ReturnCalls++;
            var decision = Planner.PlanReturnHome(Input());
            if (decision.Outcome == DecisionOutcome.Migrate && !Settling(cluster, HostIndex(cluster, decision.Host)))
            {
                Record(cluster, Input(), decision, MoveKind.ReturnHome);
            }
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

    /// <summary>The worker's settling gate: the host is in a migration, or one touched it less than
    /// policy.settleTime ago.</summary>
    private bool Settling(ClusterState cluster, int host) =>
        cluster.InFlight.Exists(m => m.Source == host || m.Target == host)
        || cluster.Now - cluster.LastMigrationEnd[host] < options.SettleTime.TotalSeconds;

    private PlanningInput Record(ClusterState cluster, PlanningInput input, Decision decision, MoveKind kind)
    {
        Decisions.Add((cluster.Now, decision));
        if (decision.Migration is not { } plan || options.DryRun)
        {
            return input;
        }
        var domain = DomainIndex(cluster, plan.Domain);
        var move = cluster.StartMigration(domain, HostIndex(cluster, plan.Target), kind,
            kind == MoveKind.Relief ? plan.SourceBusyAfter < options.HighWatermark : null);
        return input with { InFlight = [.. input.InFlight, new MigrationInFlight(plan.Domain, plan.Source, plan.Target, At(move.StartedAt))] };
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
                Settling: now - cluster.LastReceivedEnd[h] < options.SettleTime.TotalSeconds));
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
