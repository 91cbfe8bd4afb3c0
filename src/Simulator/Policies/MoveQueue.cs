using Loadshift.Simulator.Simulation;

namespace Loadshift.Simulator.Policies;

/// <summary>The rounds of a policy that plans on a schedule: the moves planned in one round are started one after
/// another within the in-flight limit (as the Rebalancer's policy.maxMigrationsInFlight: every policy gets the same
/// limit), and the next round is due once they are done and the interval has passed.</summary>
internal sealed class MoveQueue(int maxInFlight, TimeSpan interval)
{
    private readonly Queue<(int Domain, int Target)> queue = new();
    private double nextRound;

    /// <summary>Starts what is queued; true when a new round should be planned now (then the next is an interval away).</summary>
    public bool Due(ClusterState cluster)
    {
        Start(cluster);
        if (cluster.Now < nextRound || !cluster.HasBusyRatio || !IsEmpty || cluster.InFlight.Count > 0)
        {
            return false;
        }
        nextRound = cluster.Now + interval.TotalSeconds;
        return true;
    }

    /// <summary>Each host's load in cores as the busy ratio shows it (a round's model, updated as it plans).</summary>
    public static double[] BusyCores(ClusterState cluster) =>
        [.. Enumerable.Range(0, cluster.HostCount).Select(h => cluster.BusyRatio[h] * cluster.Capacity[h])];

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
