using Loadshift.Simulator.Simulation;

namespace Loadshift.Simulator.Policies;

/// <summary>No balancing: the trace on its starting placement, the baseline every other policy is measured against.</summary>
public sealed class NonePolicy : IPolicy
{
    public string Name => "none";

    public string Description => "no migrations: the starting placement for the whole trace";

    public void Act(ClusterState cluster)
    {
    }
}
