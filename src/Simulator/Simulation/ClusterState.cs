using Loadshift.Rebalancer.Planning;
using Loadshift.Rebalancer.Inventory;

namespace Loadshift.Simulator.Simulation;

/// <summary>Why a migration was started; the Rebalancer's decision kinds plus the moves of the other policies.</summary>
public enum MoveKind
{
    Relief,
    ReturnHome,
    Drain,
    Balance,
}

/// <summary>One migration in the simulated cluster.</summary>
/// <param name="SourceWasOver">The source's busy ratio was over the high watermark when the move started.</param>
/// <param name="SourceSaturated">The source's demand exceeded its capacity: the domain's share understated its demand.</param>
/// <param name="PredictedEnough">The policy predicted the source under the high watermark after the move (the
/// planner's SourceBusyAfter; null when the policy predicts nothing).</param>
public sealed record Move(int Domain, int Source, int Target, double StartedAt, double EndsAt, MoveKind Kind, long Bytes, bool SourceWasOver,
    bool SourceSaturated, bool? PredictedEnough = null);

/// <summary>One policy's copy of the cluster in simulated time: where each domain runs, the hosts' load, the
/// busy ratio Prometheus would record, the alert's state, the migrations and the figures. Time is in seconds
/// from the trace's start. Arrays, not objects: 10,000 domains are looked at every tick.</summary>
public sealed class ClusterState
{
    private readonly Scenario scenario;
    private readonly double[] demand;
    private readonly long[] memory;
    private readonly double tick;
    private readonly int window;
    private readonly int calmWindow;
    private readonly double[] busyRing;
    private readonly double[] busyRatioRing;
    private int samples;
    private readonly List<(double At, Move Move)> verifications = [];

    public ClusterState(Scenario scenario, double[] demand, long[] memory)
    {
        this.scenario = scenario;
        this.demand = demand;
        this.memory = memory;
        Hosts = scenario.Inventory.Hosts;
        HostCount = Hosts.Count;
        DomainCount = scenario.Domains.Count;
        Capacity = [.. Hosts.Select(h => h.CpuCapacity)];
        HostMemory = [.. Hosts.Select(h => h.MemoryBytes)];
        Maintenance = [.. Hosts.Select(h => h.Maintenance)];
        HostOf = [.. scenario.InitialHost];
        MigratingTo = Enumerable.Repeat(-1, DomainCount).ToArray();
        var hostIndex = Hosts.Select((h, i) => (h.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
        var configured = scenario.Inventory.ConfiguredHomes();
        Home = [.. scenario.Domains.Select((d, i) => configured.TryGetValue(d, out var h) && hostIndex.TryGetValue(h, out var hi) ? hi : HostOf[i])];
        var pinned = new HashSet<string>(scenario.Inventory.Pinned, StringComparer.Ordinal);
        Pinned = [.. scenario.Domains.Select(pinned.Contains)];
        Rules = PlacementRules.From(scenario.Inventory.Rules);
        hardRules = HardRules.Index(Rules, scenario.Domains, hostIndex);
        HostDemand = new double[HostCount];
        CommittedMemory = new long[HostCount];
        BusyRatio = new double[HostCount];
        tick = scenario.Tick.TotalSeconds;
        window = Math.Max(1, (int)Math.Round(scenario.Alert.RateWindow.TotalSeconds / tick));
        calmWindow = Math.Max(1, (int)Math.Ceiling(scenario.Policy.ReturnHomeAfter.TotalSeconds / tick) + 1);
        busyRing = new double[HostCount * window];
        busyRatioRing = new double[HostCount * calmWindow];
        PendingSince = Enumerable.Repeat(double.NaN, HostCount).ToArray();
        FiringSince = Enumerable.Repeat(double.NaN, HostCount).ToArray();
        KeepFiringSince = Enumerable.Repeat(double.NaN, HostCount).ToArray();
        LastMigrationEnd = Enumerable.Repeat(double.NegativeInfinity, HostCount).ToArray();
        LastReceivedEnd = Enumerable.Repeat(double.NegativeInfinity, HostCount).ToArray();
        LastMoveStart = Enumerable.Repeat(double.NaN, DomainCount).ToArray();
        LastMoveEnd = Enumerable.Repeat(double.NaN, DomainCount).ToArray();
        for (var d = 0; d < DomainCount; d++)
        {
            if (HostOf[d] != Home[d])
            {
                Away.Add(d);
            }
        }
    }

    public IReadOnlyList<InventoryHost> Hosts { get; }

    public int HostCount { get; }

    public int DomainCount { get; }

    public double[] Capacity { get; }

    public long[] HostMemory { get; }

    public bool[] Maintenance { get; }

    public int[] HostOf { get; }

    /// <summary>The target of the domain's migration under way, else -1.</summary>
    public int[] MigratingTo { get; }

    public int[] Home { get; }

    public bool[] Pinned { get; }

    /// <summary>Domains not on their home host (and not on their way there).</summary>
    public HashSet<int> Away { get; } = [];

    /// <summary>CPU demand on each host in cores (a migrating domain counts on both hosts).</summary>
    public double[] HostDemand { get; }

    /// <summary>host:hypervisor_cpu_busy:ratio_rate1m: the mean busy ratio over the rate window before now.</summary>
    public double[] BusyRatio { get; }

    public bool HasBusyRatio => samples > 0;

    public double[] PendingSince { get; }

    /// <summary>When the host's alert started firing, NaN when it is not.</summary>
    public double[] FiringSince { get; }

    private double[] KeepFiringSince { get; }

    public double[] LastMigrationEnd { get; }

    /// <summary>End of the last migration that brought a domain to the host (the planner's settling hosts).</summary>
    public double[] LastReceivedEnd { get; }

    public double[] LastMoveStart { get; }

    public double[] LastMoveEnd { get; }

    /// <summary>Starts of each domain's migrations (for the back-off count), only for domains that moved.</summary>
    public Dictionary<int, List<double>> MoveStarts { get; } = [];

    public List<Move> InFlight { get; } = [];

    public List<Move> Moves { get; } = [];

    public double Demand(int domain) => demand[domain];

    public long Memory(int domain) => memory[domain];

    public string Name(int domain) => scenario.Domains[domain];

    public double Now { get; private set; }

    /// <summary>Changes with each trace step (every domain's demand may have changed).</summary>
    public long StepVersion { get; private set; }

    /// <summary>Hosts a migration started or ended on since the reader last cleared the set (the domains there, and
    /// their shares, changed).</summary>
    public HashSet<int> TouchedHosts { get; } = [];

    /// <summary>Migrations ended so far.</summary>
    public int MovesEnded { get; private set; }

    public double HighWatermark => scenario.Policy.HighWatermark;

    /// <summary>The domain's CPU as a share of its host's capacity, as host_domain:libvirt_domain_cpu:ratio_rate1m
    /// records it: what it gets (its demand scaled down when the host is saturated) over the host's capacity. Taken
    /// at the tick, not averaged over the rule's 1m window: the two differ only in the minute after a trace step or
    /// a move.</summary>
    public double Share(int domain)
    {
        var host = HostOf[domain];
        var served = HostDemand[host] > Capacity[host] ? Capacity[host] / HostDemand[host] : 1;
        return demand[domain] * served / Capacity[host];
    }

    /// <summary>The highest busy ratio over policy.returnHomeAfter (the planner's calm window).</summary>
    public double CalmWindowMax(int host)
    {
        var n = Math.Min(samples, calmWindow);
        var max = 0.0;
        for (var i = 0; i < n; i++)
        {
            max = Math.Max(max, busyRatioRing[(host * calmWindow) + i]);
        }
        return max;
    }

    public bool Firing(int host) => !double.IsNaN(FiringSince[host]);

    /// <summary>Memory the domains on (or coming to) each host take.</summary>
    public long[] CommittedMemory { get; }

    /// <summary>Whether the domain's memory fits on the host besides what is there or coming (no limit when the
    /// inventory gives the host no memory).</summary>
    /// <summary>The inventory's placement rules, as the Rebalancer gives them to its planner.</summary>
    public PlacementRules Rules { get; }

    private readonly HardRules hardRules;

    public bool MemoryFits(int domain, int host) => HostMemory[host] <= 0 || CommittedMemory[host] + memory[domain] <= HostMemory[host];

    // ---- the figures ----
    public long HostTicks { get; private set; }

    public long OverloadedHostTicks { get; private set; }

    public double UnservedCoreSeconds { get; private set; }

    public int MovesUndone { get; private set; }

    public int HardRuleViolations { get; private set; }

    public int MovesNotHelped { get; private set; }

    /// <summary>The moves that did not help, by kind and by what failed (for the record of why).</summary>
    public Dictionary<string, int> NotHelpedBreakdown { get; } = new(StringComparer.Ordinal);

    /// <summary>Recomputes every host's demand from the domains (after the trace's step changed).</summary>
    public void RecomputeHostDemand()
    {
        StepVersion++;
        Array.Clear(HostDemand);
        Array.Clear(CommittedMemory);
        for (var d = 0; d < DomainCount; d++)
        {
            HostDemand[HostOf[d]] += demand[d];
            CommittedMemory[HostOf[d]] += memory[d];
            if (MigratingTo[d] >= 0)
            {
                HostDemand[MigratingTo[d]] += demand[d];
                CommittedMemory[MigratingTo[d]] += memory[d];
            }
        }
    }

    /// <summary>One tick at <paramref name="now"/>: migrations that ended land, Prometheus evaluates the busy ratio
    /// over what the hosts did before now and the alert; then the hosts run the coming tick (the figures).</summary>
    public void Observe(double now)
    {
        Now = now;
        CompleteMigrations(now);
        var n = Math.Min(samples, window);
        for (var h = 0; h < HostCount; h++)
        {
            if (n > 0)
            {
                var sum = 0.0;
                for (var i = 0; i < n; i++)
                {
                    sum += busyRing[(h * window) + i];
                }
                BusyRatio[h] = sum / n;
            }
            EvaluateAlert(h, now, n > 0 && BusyRatio[h] > scenario.Alert.HighWatermark);
        }
        if (n > 0)
        {
            var slot = (samples - 1) % calmWindow;
            for (var h = 0; h < HostCount; h++)
            {
                busyRatioRing[(h * calmWindow) + slot] = BusyRatio[h];
            }
        }
        foreach (var (at, move) in verifications.Where(v => v.At <= now).ToList())
        {
            verifications.Remove((at, move));
            // The planner's own acceptance rule, checked against what happened once the busy ratio shows the move:
            // the target stays under the high watermark, and an overloaded source gets under it.
            var targetOver = BusyRatio[move.Target] > HighWatermark;
            var sourceStillOver = move.SourceWasOver && BusyRatio[move.Source] > HighWatermark;
            if (targetOver || sourceStillOver)
            {
                MovesNotHelped++;
                var key = $"{move.Kind}: {(targetOver ? sourceStillOver ? "target over, source still over" : "target over" : "source still over")}" +
                    (move.SourceSaturated ? " (source saturated)" : "") + (move.PredictedEnough == false ? " (no single move enough)" : "");
                NotHelpedBreakdown[key] = NotHelpedBreakdown.GetValueOrDefault(key) + 1;
            }
        }
    }

    /// <summary>The hosts run from now to the next tick with the placement as it is after the policy acted.</summary>
    public void Run()
    {
        var slot = samples % window;
        for (var h = 0; h < HostCount; h++)
        {
            var busy = Capacity[h] > 0 ? Math.Min(1, HostDemand[h] / Capacity[h]) : 1;
            busyRing[(h * window) + slot] = busy;
            HostTicks++;
            if (busy > HighWatermark)
            {
                OverloadedHostTicks++;
            }
            if (HostDemand[h] > Capacity[h])
            {
                UnservedCoreSeconds += (HostDemand[h] - Capacity[h]) * tick;
            }
        }
        samples++;
    }

    /// <summary>Prometheus' alerting: pending while the expression holds, firing once it held for <c>for</c>; a firing
    /// alert whose expression no longer holds keeps firing for <c>keep_firing_for</c>.</summary>
    private void EvaluateAlert(int host, double now, bool holds)
    {
        var rule = scenario.Alert;
        if (holds)
        {
            KeepFiringSince[host] = double.NaN;
            if (double.IsNaN(PendingSince[host]))
            {
                PendingSince[host] = now;
            }
            if (double.IsNaN(FiringSince[host]) && now - PendingSince[host] >= rule.For.TotalSeconds)
            {
                FiringSince[host] = now;
            }
            return;
        }
        PendingSince[host] = double.NaN;
        if (!double.IsNaN(FiringSince[host]))
        {
            if (double.IsNaN(KeepFiringSince[host]))
            {
                KeepFiringSince[host] = now;
            }
            if (now - KeepFiringSince[host] >= rule.KeepFiringFor.TotalSeconds)
            {
                FiringSince[host] = double.NaN;
                KeepFiringSince[host] = double.NaN;
            }
        }
    }

    /// <summary>Starts a live migration now; counts it against the hard rules (pinned domains stay, nothing goes
    /// to a host in maintenance, a target's memory is not overcommitted, the inventory's hard placement rules:
    /// anti-affinity, must run on, never on). Checked here, apart from the planner, so a policy's count does not
    /// rest on the code it checks.</summary>
    public Move StartMigration(int domain, int target, MoveKind kind, bool? predictedEnough = null)
    {
        if (MigratingTo[domain] >= 0)
        {
            throw new InvalidOperationException($"{Name(domain)} is already migrating");
        }
        var source = HostOf[domain];
        if (target == source)
        {
            throw new InvalidOperationException($"{Name(domain)} is already on {Hosts[target].Name}");
        }
        if (Pinned[domain] || Maintenance[target] || !MemoryFits(domain, target) || hardRules.Breaks(domain, target, HostOf, MigratingTo))
        {
            HardRuleViolations++;
        }
        var move = new Move(domain, source, target, Now, Now + scenario.Migration.Seconds(memory[domain]), kind, memory[domain],
            BusyRatio[source] > HighWatermark, HostDemand[source] > Capacity[source], predictedEnough);
        TouchedHosts.Add(source);
        TouchedHosts.Add(target);
        MigratingTo[domain] = target;
        HostDemand[target] += demand[domain];
        CommittedMemory[target] += memory[domain];
        Away.Remove(domain);
        InFlight.Add(move);
        Moves.Add(move);
        // Undone: the domain goes back where its previous move, within the hour, took it from.
        if (MoveStarts.ContainsKey(domain))
        {
            var previous = Moves.FindLast(m => m.Domain == domain && !ReferenceEquals(m, move));
            if (previous is not null && previous.Source == target && previous.Target == source && Now - previous.StartedAt <= 3600)
            {
                MovesUndone++;
            }
        }
        else
        {
            MoveStarts[domain] = [];
        }
        MoveStarts[domain].Add(Now);
        return move;
    }

    private void CompleteMigrations(double now)
    {
        for (var i = InFlight.Count - 1; i >= 0; i--)
        {
            var move = InFlight[i];
            if (move.EndsAt > now)
            {
                continue;
            }
            InFlight.RemoveAt(i);
            MovesEnded++;
            TouchedHosts.Add(move.Source);
            TouchedHosts.Add(move.Target);
            HostOf[move.Domain] = move.Target;
            MigratingTo[move.Domain] = -1;
            // Rounding must not leave an emptied host a hair below zero.
            HostDemand[move.Source] = Math.Max(0, HostDemand[move.Source] - demand[move.Domain]);
            CommittedMemory[move.Source] -= memory[move.Domain];
            if (move.Target != Home[move.Domain])
            {
                Away.Add(move.Domain);
            }
            LastMoveStart[move.Domain] = move.StartedAt;
            LastMoveEnd[move.Domain] = move.EndsAt;
            LastMigrationEnd[move.Source] = Math.Max(LastMigrationEnd[move.Source], move.EndsAt);
            LastMigrationEnd[move.Target] = Math.Max(LastMigrationEnd[move.Target], move.EndsAt);
            LastReceivedEnd[move.Target] = Math.Max(LastReceivedEnd[move.Target], move.EndsAt);
            verifications.Add((move.EndsAt + scenario.Policy.SettleTime.TotalSeconds, move));
        }
    }
}
