using Loadshift.Rebalancer.Inventory;
using Loadshift.Simulator.Inputs;

namespace Loadshift.Simulator.Simulation;

/// <summary>How long a live migration takes: a fixed part (connection, the final stop-and-copy, libvirt's
/// bookkeeping) plus the domain's memory over the migration bandwidth (one pre-copy pass; dirty pages that need
/// further passes are not modelled). While it runs, both hosts carry the domain's CPU demand: the source runs it,
/// the target runs QEMU's receiving side (the Rebalancer's lab measured the source's load during a move).</summary>
/// <param name="FixedSeconds">Default 3 s: the lab's moves of 128 MiB domains took 3.6-4.0 s on calm hosts
/// (docs/demo.md), almost all of it fixed.</param>
/// <param name="BytesPerSecond">Default 1 GB/s: a 10 Gbit/s migration network at about 80%.</param>
public sealed record MigrationModel(double FixedSeconds = 3, double BytesPerSecond = 1e9)
{
    public double Seconds(long memoryBytes) => FixedSeconds + (memoryBytes / BytesPerSecond);
}

/// <summary>Everything a run needs: the inventory (hosts, pinned domains, the policy), the domains with their
/// starting place, the alert as the rules define it, the migration model and the trace.</summary>
public sealed class Scenario
{
    public required InventoryOptions Inventory { get; init; }

    public required PolicyOptions Policy { get; init; }

    public required AlertRule Alert { get; init; }

    public required IReadOnlyList<string> Domains { get; init; }

    /// <summary>Host index (into <see cref="InventoryOptions.Hosts"/>) of each domain at the start.</summary>
    public required IReadOnlyList<int> InitialHost { get; init; }

    public required IReadOnlyList<long> InitialMemoryBytes { get; init; }

    public MigrationModel Migration { get; init; } = new();

    /// <summary>The simulated clock's tick: the rule evaluation interval (the busy ratio, the alert and the
    /// Rebalancer's passes are all looked at once per tick).</summary>
    public TimeSpan Tick => Alert.EvaluationInterval;

    /// <summary>Wall time of the trace's second 0 (the planner's clock; the replay's --from).</summary>
    public DateTimeOffset Start { get; init; } = new(2026, 1, 5, 0, 0, 0, TimeSpan.Zero);

    public required Func<ITrace> OpenTrace { get; init; }

    public Dictionary<string, int> DomainIndex() =>
        Domains.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i, StringComparer.Ordinal);

    /// <summary>From an inventory and a placement; the trace opened by <paramref name="openTrace"/>.</summary>
    public static Scenario From(InventoryFile inventory, Placement placement, AlertRule alert, MigrationModel migration,
        Func<IReadOnlyDictionary<string, int>, ITrace> openTrace)
    {
        var hostIndex = inventory.Inventory.Hosts.Select((h, i) => (h.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
        var domains = placement.Domains;
        var index = domains.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i, StringComparer.Ordinal);
        return new Scenario
        {
            Inventory = inventory.Inventory,
            Policy = inventory.Policy,
            Alert = alert,
            Domains = domains,
            InitialHost = [.. placement.Hosts.Select(h => hostIndex[h])],
            InitialMemoryBytes = placement.MemoryBytes,
            Migration = migration,
            OpenTrace = () => openTrace(index),
        };
    }
}
