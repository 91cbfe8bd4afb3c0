using Loadshift.Rebalancer.Inventory;

namespace Loadshift.Rebalancer.Tests.Lab;

/// <summary>The running lab's hosts as the Rebalancer's inventory names them (lab/.state/lab.json).</summary>
internal static class LabInventory
{
    /// <summary>The lab tests migrate the same VMs: one collection, so that xUnit runs them one after the other (run in
    /// parallel, one test's migration of vm3 made the other's relief see vm3 on two hosts).</summary>
    public const string Collection = "lab VMs";

    public static List<InventoryHost> Hosts(Loadshift.Lab.LabState lab) =>
        [.. lab.Hosts.Select(h => new InventoryHost { Name = h.Name, LibvirtUri = h.LibvirtUri, CpuCapacity = h.CpuQuota, MemoryBytes = h.MemoryBytes })];
}
