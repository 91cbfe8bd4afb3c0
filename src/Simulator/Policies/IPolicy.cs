using Loadshift.Simulator.Simulation;

namespace Loadshift.Simulator.Policies;

/// <summary>A balancing policy in the simulator: looks at its copy of the cluster once per tick and may start
/// migrations. One instance per run (it may keep state between ticks).</summary>
public interface IPolicy
{
    string Name { get; }

    /// <summary>What it does and where it comes from, with its parameters (the docs and the table).</summary>
    string Description { get; }

    void Act(ClusterState cluster);
}
