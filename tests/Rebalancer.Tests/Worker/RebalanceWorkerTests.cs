using Loadshift.Rebalancer.Inventory;
using Loadshift.Rebalancer.Journal;
using Loadshift.Rebalancer.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Loadshift.Rebalancer.Tests.Worker;

/// <summary>The worker's passes on a real SQLite journal, libvirt and Prometheus faked below their interfaces.</summary>
public sealed class RebalanceWorkerTests : IDisposable
{
    private readonly TempDirectory directory = new();
    private readonly FakeHypervisor hypervisor = new();
    private readonly FakeMetricsSource metricsSource = new();

    public void Dispose()
    {
        hypervisor.Hold?.TrySetResult();
        SqliteConnection.ClearAllPools();
        directory.Dispose();
    }

    /// <summary>vm1's home is hv1, which is calm; vm1 runs on hv2.</summary>
    private async Task<Components> AwayFromACalmHomeAsync()
    {
        var inventory = new InventoryOptions
        {
            Hosts =
            [
                new InventoryHost { Name = "hv1", LibvirtUri = "qemu+tcp://10.0.0.1/system", CpuCapacity = 2, Home = ["vm1"] },
                new InventoryHost { Name = "hv2", LibvirtUri = "qemu+tcp://10.0.0.2/system", CpuCapacity = 2 },
            ],
        };
        hypervisor.Place("vm1", "hv2");
        metricsSource.Set(new() { ["hv1"] = 0.10, ["hv2"] = 0.30 }, new() { [("hv2", "vm1")] = 0.20 });
        var components = new Components(directory.File("journal.db"), hypervisor, inventory: inventory, metricsSource: metricsSource);
        await components.Journal.InitializeAsync(CancellationToken.None);
        await components.Journal.SetHomesAsync([("vm1", "hv1")], "inventory", overwrite: true, DateTimeOffset.UtcNow, CancellationToken.None);
        return components;
    }

    [Fact]
    public async Task A_pass_that_starts_a_migration_journals_it_before_it_ends_so_the_next_pass_does_not_start_it_again()
    {
        var components = await AwayFromACalmHomeAsync();
        hypervisor.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        await components.Worker.RunPassAsync(CancellationToken.None);
        // A webhook wakes the worker at once: the return home must already count as in flight.
        Assert.Single(await components.Journal.GetRunningMigrationsAsync(CancellationToken.None));
        await components.Worker.RunPassAsync(CancellationToken.None);
        hypervisor.Hold.SetResult();
        await Eventually.TrueAsync(async () => (await components.Journal.GetRunningMigrationsAsync(CancellationToken.None)).Count == 0
            && components.Tracker.Count == 0, "the migration finished");

        Assert.Single(hypervisor.Migrations);
        var decisions = (await components.Journal.ListDecisionsAsync(null, 10, CancellationToken.None)).Items;
        Assert.Single(decisions, d => d.Kind == "return_home" && d.Outcome == "migrate");
        Assert.Equal("hv1", hypervisor.HostOf("vm1"));
    }
}
