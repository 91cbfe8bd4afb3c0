using Loadshift.Simulator.Simulation;

namespace Loadshift.Simulator.Policies;

/// <summary>ProxLB's balancing (github.com/gyptazy/ProxLB, "balanciness"): on a schedule, while the spread
/// between the most and the least used host exceeds the balanciness, move a guest from the most used host to the
/// least used one. Usage here is the CPU busy ratio (ProxLB balances memory by default and CPU with
/// <c>method: cpu</c>). Each move takes the guest that best evens the pair without reversing it; the run plans
/// on its own model, updated after each planned move, then migrates.</summary>
public sealed class ProxLbPolicy(TimeSpan interval, double balanciness, int maxInFlight) : IPolicy
{
    private readonly MoveQueue queue = new(maxInFlight, interval);

    public string Name => "proxlb";

    public string Description =>
        $"ProxLB balanciness: every {interval.TotalMinutes:0} min, while max - min busy > {balanciness:0.00}, move from the most to the least used host (CPU)";

    public void Act(ClusterState cluster)
    {
        if (!queue.Due(cluster))
        {
            return;
        }
        var load = MoveQueue.BusyCores(cluster);
        var memory = (long[])cluster.CommittedMemory.Clone();
        var placed = (int[])cluster.HostOf.Clone();
        var eligible = Enumerable.Range(0, cluster.HostCount).Where(h => !cluster.Maintenance[h]).ToArray();
        var byHost = Enumerable.Range(0, cluster.DomainCount).Where(d => !cluster.Pinned[d]).ToLookup(d => placed[d]);
        var domains = eligible.ToDictionary(h => h, h => byHost[h].ToList());
        // At most one planned move per domain and a bound on the run, as ProxLB plans each guest once.
        var movedNow = new HashSet<int>();
        for (var round = 0; round < cluster.DomainCount; round++)
        {
            var most = eligible.MaxBy(h => load[h] / cluster.Capacity[h]);
            var least = eligible.MinBy(h => load[h] / cluster.Capacity[h]);
            var spread = (load[most] / cluster.Capacity[most]) - (load[least] / cluster.Capacity[least]);
            if (spread <= balanciness)
            {
                break;
            }
            var best = -1;
            var bestSpread = spread;
            foreach (var d in domains[most])
            {
                if (movedNow.Contains(d) || cluster.MigratingTo[d] >= 0 || (cluster.HostMemory[least] > 0 && memory[least] + cluster.Memory(d) > cluster.HostMemory[least]))
                {
                    continue;
                }
                var cores = cluster.Share(d) * cluster.Capacity[most];
                var after = Math.Abs(((load[most] - cores) / cluster.Capacity[most]) - ((load[least] + cores) / cluster.Capacity[least]));
                if (after < bestSpread)
                {
                    best = d;
                    bestSpread = after;
                }
            }
            if (best < 0)
            {
                break;
            }
            var moved = cluster.Share(best) * cluster.Capacity[most];
            load[most] -= moved;
            load[least] += moved;
            memory[least] += cluster.Memory(best);
            domains[most].Remove(best);
            domains[least].Add(best);
            movedNow.Add(best);
            queue.Add(best, least);
        }
        queue.Start(cluster);
    }
}
