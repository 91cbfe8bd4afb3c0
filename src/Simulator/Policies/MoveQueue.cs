using Loadshift.Simulator.Simulation;

namespace Loadshift.Simulator.Policies;

/// <summary>Moves a policy planned in one run, started one after another within the in-flight limit (as the
/// Rebalancer's policy.maxMigrationsInFlight: every policy gets the same limit).</summary>
internal sealed class MoveQueue(int maxInFlight)
{
    private readonly Queue<(int Domain, int Target)> queue = new();

    public bool IsEmpty => queue.Count == 0;

    public void Add(int domain, int target) => queue.Enqueue((domain, target));

    public void Start(ClusterState cluster)
    {
        while (queue.Count > 0 && cluster.InFlight.Count < maxInFlight)
        {
            var (domain, target) = queue.Dequeue();
            if (cluster.MigratingTo[domain] < 0 && cluster.HostOf[domain] != target)
            {
                cluster.StartMigration(domain, target, MoveKind.Balance);
            }
        }
    }
}
