using Loadshift.Rebalancer.Execution;
using Loadshift.Rebalancer.Inventory;
using Loadshift.Rebalancer.Journal;
using Loadshift.Rebalancer.Planning;
using Loadshift.Rebalancer.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Loadshift.Rebalancer.Tests.Lab;

/// <summary>The executor against two real libvirt hosts of the lab: virsh migrate --live from hv1 to hv2 and
/// back, placement verified with libvirt after each. Needs the lab (lab/up); leaves every VM on its home host.</summary>
[Trait("Category", "Lab")]
public sealed class LabExecutorTests : IDisposable
{
    private readonly TempDirectory directory = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        directory.Dispose();
    }

    [Fact]
    public async Task A_vm_goes_live_from_hv1_to_hv2_and_back_with_placement_verified_by_libvirt()
    {
        var lab = Loadshift.Testing.RunningLab.Read();
        var inventory = new InventoryOptions
        {
            Hosts = [.. lab.Hosts.Select(h => new InventoryHost { Name = h.Name, LibvirtUri = h.LibvirtUri, CpuCapacity = h.CpuQuota, MemoryBytes = h.MemoryBytes })],
        };
        var hv1 = inventory.FindHost("hv1") ?? throw new InvalidOperationException("lab.json has no hv1");
        var hv2 = inventory.FindHost("hv2") ?? throw new InvalidOperationException("lab.json has no hv2");
        var virsh = new VirshHypervisor(Options.Create(new LibvirtOptions()), TimeProvider.System, NullLogger<VirshHypervisor>.Instance);
        var policy = new PolicyOptions { MigrationTimeout = TimeSpan.FromMinutes(2) };
        var components = new Components(directory.Combine("journal.db"), virsh, policy: policy, inventory: inventory);
        await components.Journal.InitializeAsync(CancellationToken.None);

        var running = await virsh.ListRunningDomainsAsync(hv1, CancellationToken.None);
        var domain = lab.Vms.Where(v => v.HomeHost == "hv1").Select(v => v.Name).LastOrDefault(running.Contains)
            ?? throw new InvalidOperationException($"No lab VM runs on its home host hv1 (hv1 runs: {string.Join(", ", running)}). Run lab/up to put them home.");

        var away = new MigrationPlan(domain, "hv1", "hv2", 0, 0, 0, 0, 0, 0);
        try
        {
            var there = await components.Executor.ExecuteAsync(DecisionKind.Relief, away, null, CancellationToken.None);
            Assert.True(there.Result == MigrationResults.Succeeded, $"{domain} hv1 -> hv2: {there.Result} ({there.Note}) {there.Stderr}");
            Assert.Equal("hv2", there.Placement);
            Assert.True((await virsh.GetDomainPresenceAsync(hv2, domain, CancellationToken.None)).Running);
            Assert.False((await virsh.GetDomainPresenceAsync(hv1, domain, CancellationToken.None)).Defined);
            Assert.InRange(there.Duration, TimeSpan.Zero, TimeSpan.FromMinutes(1));
        }
        finally
        {
            // Home again whatever happened above, when the domain is on hv2.
            if ((await virsh.GetDomainPresenceAsync(hv2, domain, CancellationToken.None)).Defined)
            {
                var back = await components.Executor.ExecuteAsync(DecisionKind.ReturnHome,
                    new MigrationPlan(domain, "hv2", "hv1", 0, 0, 0, 0, 0, 0), null, CancellationToken.None);
                Assert.True(back.Result == MigrationResults.Succeeded, $"{domain} hv2 -> hv1: {back.Result} ({back.Note}) {back.Stderr}");
            }
        }
        Assert.True((await virsh.GetDomainPresenceAsync(hv1, domain, CancellationToken.None)).Running);
        Assert.False((await virsh.GetDomainPresenceAsync(hv2, domain, CancellationToken.None)).Defined);
        var journaled = (await components.Journal.ListMigrationsAsync(null, 10, CancellationToken.None)).Items;
        Assert.Equal(2, journaled.Count);
        Assert.All(journaled, m => Assert.Equal(MigrationResults.Succeeded, m.Result));
        Assert.Equal(2, await components.MigrationsAsync("succeeded"));
    }
}
