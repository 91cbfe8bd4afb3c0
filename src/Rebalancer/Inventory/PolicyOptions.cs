namespace Loadshift.Rebalancer.Inventory;

/// <summary>The planner's knobs, bound from the inventory's <c>policy</c> section.</summary>
public sealed class PolicyOptions
{
    public const string Section = "policy";

    /// <summary>A host above this busy ratio is overloaded; no move may push a host to it. The seed's maxhvm=80.</summary>
    public double HighWatermark { get; set; } = 0.80;

    /// <summary>A home host under this busy ratio for <see cref="ReturnHomeAfter"/> takes its domains back.</summary>
    public double LowWatermark { get; set; } = 0.50;

    /// <summary>How long a home host must stay under the low watermark before a domain returns.</summary>
    public TimeSpan ReturnHomeAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>After a domain moved, it is not moved away again for this long (doubled per recent move).</summary>
    public TimeSpan Cooldown { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Factor applied to the cooldown for each further move of a domain within <see cref="BackoffWindow"/>.</summary>
    public double CooldownBackoff { get; set; } = 2.0;

    /// <summary>The cooldown never grows beyond this.</summary>
    public TimeSpan MaxCooldown { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Moves counted for the back-off.</summary>
    public TimeSpan BackoffWindow { get; set; } = TimeSpan.FromHours(6);

    /// <summary>No domain moves more than this many times within <see cref="MaxMovesWindow"/> (relief, return home;
    /// a drain is an operator's order and is not held to it, as to the cooldown).</summary>
    public int MaxMovesPerDomain { get; set; } = 3;

    /// <summary>The window <see cref="MaxMovesPerDomain"/> counts moves in (by their start).</summary>
    public TimeSpan MaxMovesWindow { get; set; } = TimeSpan.FromHours(1);

    /// <summary>A relief whose predicted gain (how much the higher busy ratio of source and target falls) is under this
    /// is not made: a move that does not help is a cost without a use.</summary>
    public double MinGain { get; set; } = 0.05;

    /// <summary>Relief aims this far under the high watermark: among the moves that leave both the source and the
    /// target at most <see cref="HighWatermark"/> minus this, the cheapest wins; only when none does, the cheapest that
    /// brings the source under the high watermark. A relief that leaves the source just under it, or fills the
    /// target up to it, is taken back over by the next minutes' noise (docs/simulation.md: the margin's measurement).</summary>
    public double ReliefMargin { get; set; } = 0.05;

    /// <summary>What a live migration copies per second (the network between hosts): turns a move's bytes to copy and
    /// the guest's dirty rate into its predicted cost. 1 GB/s is a 10 Gbit/s link.</summary>
    public double MigrationBytesPerSecond { get; set; } = 1e9;

    /// <summary>No move takes a host's memory share (of its own memory: used over MemTotal as the Exporter measures it,
    /// else the domains' maximum memory over hosts[].memoryBytes) over this; above it, HypervisorMemoryHigh asks for a
    /// memory relief.</summary>
    public double MemoryHighWatermark { get; set; } = 0.90;

    /// <summary>The alert that triggers a memory relief; it must also carry <c>action="rebalance"</c>.</summary>
    public string MemoryAlertName { get; set; } = "HypervisorMemoryHigh";

    /// <summary>After a migration touched a host, its busy ratio (a 1m rate) needs this long to show the new load;
    /// no further relief is planned for it before.</summary>
    public TimeSpan SettleTime { get; set; } = TimeSpan.FromSeconds(90);

    /// <summary>How long after a migration ends its move is verified against Prometheus (did the source fall as
    /// predicted, did the target stay under the high watermark); null: <see cref="SettleTime"/>, when the 1m busy
    /// ratios show the move.</summary>
    public TimeSpan? VerifyAfter { get; set; }

    /// <summary>The move helped when the source's busy ratio is at most its predicted ratio plus this.</summary>
    public double VerifyTolerance { get; set; } = 0.10;

    /// <summary>A domain whose last move did not help (or overloaded its target) waits this many times its cooldown
    /// before it moves again.</summary>
    public double DidNotHelpCooldownFactor { get; set; } = 2.0;

    public TimeSpan VerifyAfterOrSettleTime => VerifyAfter ?? SettleTime;

    /// <summary>At most one decision per host per window, however often Alertmanager repeats itself.</summary>
    public TimeSpan DecisionWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often the worker looks again without being woken by a webhook.</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromSeconds(15);

    public int MaxMigrationsInFlight { get; set; } = 1;

    /// <summary>A migration still running after this is aborted with <c>virsh domjobabort</c>.</summary>
    public TimeSpan MigrationTimeout { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>Extra flags for <c>virsh migrate</c>, e.g. <c>--p2p</c>, <c>--auto-converge</c>.</summary>
    public List<string> VirshFlags { get; init; } = [];

    /// <summary>The alert that triggers relief; it must also carry <c>action="rebalance"</c>.</summary>
    public string AlertName { get; set; } = "HypervisorCpuHigh";

    /// <summary>A firing alert that Alertmanager has not re-sent for this long is treated as resolved (journaled so,
    /// with the reason). Alertmanager re-sends a still-firing alert at the first group_interval after each
    /// repeat_interval (5m and 1m on the Rebalancer's route in alertmanager/alertmanager.yml: at most 6m apart), so 20m
    /// outlasts two lost repeats; an alert not heard of for longer has lost its resolved notification (Alertmanager
    /// dropped it undelivered: restarted while the Rebalancer was down, a silence, a truncated notification). Its endsAt
    /// cannot tell: Alertmanager sends 0001-01-01T00:00:00Z for every firing alert.</summary>
    public TimeSpan AlertExpiry { get; set; } = TimeSpan.FromMinutes(20);

    /// <summary>full, partial or manual (<see cref="Inventory.Automation"/>): which decisions move at once and which
    /// wait for an operator's approval as recommendations.</summary>
    public string Automation { get; set; } = Inventory.Automation.Full;

    /// <summary>Per-domain levels that override <see cref="Automation"/>, e.g. <c>{db1: manual}</c>.</summary>
    public Dictionary<string, string> DomainAutomation { get; init; } = new(StringComparer.Ordinal);

    /// <summary>A recommendation not approved within this long expires (and the planner may recommend again).</summary>
    public TimeSpan RecommendationExpiry { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Do everything but migrate. <c>--dry-run</c> on the command line sets it too.</summary>
    public bool DryRun { get; set; }
}
