using Loadshift.Simulator.Simulation;

namespace Loadshift.Simulator.Policies;

/// <summary>The Kubernetes descheduler's LowNodeUtilization (kubernetes-sigs/descheduler, pkg/framework/plugins/
/// nodeutilization): every descheduling interval, hosts over the target threshold give domains to hosts under the
/// low threshold, the busiest domain first, until the host falls under the target threshold or the underused
/// hosts' room up to the target is spent; the evicted domain goes to the least used underused host (what the
/// scheduler's LeastAllocated score would pick). Usage is the CPU busy ratio, not requests. Nothing happens when
/// no host is underused.</summary>
public sealed class DeschedulerPolicy(TimeSpan interval, double lowThreshold, double targetThreshold, int maxInFlight) : IPolicy
{
    private readonly MoveQueue queue = new(maxInFlight, interval);

    public string Name => "descheduler";

    public string Description =>
        $"LowNodeUtilization: every {interval.TotalMinutes:0} min, from hosts over {targetThreshold:0.00} to hosts under {lowThreshold:0.00} (CPU busy), busiest domain first";

    public void Act(ClusterState cluster)
    {
        if (!queue.Due(cluster))
        {
            return;
        }
        var load = MoveQueue.BusyCores(cluster);
        var memory = (long[])cluster.CommittedMemory.Clone();
        var under = Enumerable.Range(0, cluster.HostCount).Where(h => !cluster.Maintenance[h] && cluster.BusyRatio[h] < lowThreshold).ToList();
        var over = Enumerable.Range(0, cluster.HostCount).Where(h => cluster.BusyRatio[h] > targetThreshold)
            .OrderByDescending(h => cluster.BusyRatio[h]).ToList();
        if (under.Count == 0 || over.Count == 0)
        {
            return;
        }
        var byHost = Enumerable.Range(0, cluster.DomainCount).Where(d => !cluster.Pinned[d] && cluster.MigratingTo[d] < 0).ToLookup(d => cluster.HostOf[d]);
        foreach (var source in over)
        {
            foreach (var d in byHost[source].OrderByDescending(cluster.Share))
            {
                if (load[source] / cluster.Capacity[source] <= targetThreshold)
                {
                    break;
                }
                var cores = cluster.Share(d) * cluster.Capacity[source];
                var target = under
                    .Where(h => (load[h] + cores) / cluster.Capacity[h] <= targetThreshold
                        && (cluster.HostMemory[h] <= 0 || memory[h] + cluster.Memory(d) <= cluster.HostMemory[h]))
                    .OrderBy(h => load[h] / cluster.Capacity[h]).DefaultIfEmpty(-1).First();
                if (target < 0)
                {
                    continue;
                }
                load[source] -= cores;
                load[target] += cores;
                memory[target] += cluster.Memory(d);
                queue.Add(d, target);
            }
        }
        queue.Start(cluster);
    }
}
