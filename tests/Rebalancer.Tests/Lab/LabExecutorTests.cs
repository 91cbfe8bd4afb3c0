using Loadshift.Rebalancer.Inventory;
using Loadshift.Rebalancer.Journal;
using Loadshift.Rebalancer.Planning;
using Loadshift.Rebalancer.Tests.Support;

namespace Loadshift.Rebalancer.Tests.Lab;

/// <summary>The executor against two real libvirt hosts of the lab: virsh migrate --live from hv1 to hv2 and
/// back, placement verified with libvirt after each. Needs the lab (lab/up); leaves every VM on its home host.</summary>
[Trait("Category", "Lab")]
[Collection(LabFixture.Collection)]
public sealed class LabExecutorTests(LabFixture lab) : IDisposable
{
    private readonly TempDirectory directory = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        directory.Dispose();
    }

    [Fact]
    public async Task A_vm_goes_live_from_hv1_to_hv2_and_back_with_placement_verified_by_libvirt()
    {
        var components = await lab.ComponentsAsync(directory, new PolicyOptions { MigrationTimeout = TimeSpan.FromMinutes(2) }, lab.Inventory());
        var (hv1, hv2) = (lab.Host("hv1"), lab.Host("hv2"));
        var domain = (await lab.AllHomeAsync("hv1"))[^1];

        var away = new MigrationPlan(domain, "hv1", "hv2", 0, 0, 0, 0, 0, 0);
        try
        {
            var there = await components.Executor.ExecuteAsync(DecisionKind.Relief, away, null, CancellationToken.None);
            Assert.True(there.Result == MigrationResults.Succeeded, $"{domain} hv1 -> hv2: {there.Result} ({there.Note}) {there.Stderr}");
            Assert.Equal("hv2", there.Placement);
            Assert.True((await lab.Virsh.GetDomainPresenceAsync(hv2, domain, CancellationToken.None)).Running);
            Assert.False((await lab.Virsh.GetDomainPresenceAsync(hv1, domain, CancellationToken.None)).Defined);
            Assert.InRange(there.Duration, TimeSpan.Zero, TimeSpan.FromMinutes(1));

            var back = await components.Executor.ExecuteAsync(DecisionKind.ReturnHome,
                new MigrationPlan(domain, "hv2", "hv1", 0, 0, 0, 0, 0, 0), null, CancellationToken.None);
            Assert.True(back.Result == MigrationResults.Succeeded, $"{domain} hv2 -> hv1: {back.Result} ({back.Note}) {back.Stderr}");
        }
        finally
        {
            // Home again whatever happened above.
            await lab.PutHomeAsync();
        }
        Assert.True((await lab.Virsh.GetDomainPresenceAsync(hv1, domain, CancellationToken.None)).Running);
        Assert.False((await lab.Virsh.GetDomainPresenceAsync(hv2, domain, CancellationToken.None)).Defined);
        var journaled = (await components.Journal.ListMigrationsAsync(null, 10, CancellationToken.None)).Items;
        Assert.Equal([$"{domain} hv2->hv1", $"{domain} hv1->hv2"], journaled.Select(m => $"{m.Domain} {m.Source}->{m.Target}"));
        Assert.All(journaled, m => Assert.Equal(MigrationResults.Succeeded, m.Result));
        Assert.Equal(2, await components.MigrationsAsync("succeeded"));
    }
}
