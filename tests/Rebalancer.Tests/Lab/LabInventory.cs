using Loadshift.Rebalancer.Inventory;

namespace Loadshift.Rebalancer.Tests.Lab;

/// <summary>The running lab's hosts as the Rebalancer's inventory names them (lab/.state/lab.json).</summary>
internal static class LabInventory
{
    public static List<InventoryHost> Hosts(Loadshift.Lab.LabState lab) =>
        [.. lab.Hosts.Select(h => new InventoryHost { Name = h.Name, LibvirtUri = h.LibvirtUri, CpuCapacity = h.CpuQuota, MemoryBytes = h.MemoryBytes })];
}
