using Loadshift.Rebalancer.Cluster;
using Loadshift.Rebalancer.Inventory;
using Loadshift.Rebalancer.Planning;
using Prometheus;

namespace Loadshift.Rebalancer.Metrics;

/// <summary>The gauges that describe the cluster as the worker's last pass saw it: hosts in maintenance, hosts
/// whose libvirt answered, domains away from home. Derived from that look whenever /metrics is collected; none
/// before the first pass, as libvirt has not been asked yet.</summary>
internal sealed class ClusterGauges
{
    private readonly RebalancerMetrics metrics;
    private readonly InventoryOptions inventory;
    private Look? last;

    public ClusterGauges(RebalancerMetrics metrics, InventoryOptions inventory)
    {
        this.metrics = metrics;
        this.inventory = inventory;
        metrics.Registry.AddBeforeCollectCallback(Publish);
    }

    /// <summary>The look of a pass: its snapshot and the planner's input built from it.</summary>
    public void Saw(ClusterSnapshot snapshot, PlanningInput input) => Volatile.Write(ref last, new Look(snapshot, input));

    private void Publish()
    {
        if (Volatile.Read(ref last) is not { } look)
        {
            return;
        }
        metrics.DomainsAwayFromHome.Set(look.Input.Domains.Count(d => d.HomeHost is not null && d.HomeHost != d.Host));
        SetPerHost(metrics.HostMaintenance, inventory.Hosts.Select(h => (h.Name, look.Snapshot.Maintenance.Contains(h.Name))));
        SetPerHost(metrics.HostReachable, look.Snapshot.Libvirt.Select(h => (h.Name, h.Reachable)));
    }

    /// <summary>1 or 0 per host; a host no longer described loses its series.</summary>
    private static void SetPerHost(Gauge gauge, IEnumerable<(string Host, bool Value)> hosts)
    {
        var described = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (host, value) in hosts)
        {
            gauge.WithLabels(host).Set(value ? 1 : 0);
            described.Add(host);
        }
        foreach (var labels in gauge.GetAllLabelValues().Where(l => !described.Contains(l[0])).ToList())
        {
            gauge.RemoveLabelled(labels);
        }
    }

    private sealed record Look(ClusterSnapshot Snapshot, PlanningInput Input);
}
