using Loadshift.Rebalancer.Execution;
using Loadshift.Rebalancer.Inventory;
using Loadshift.Rebalancer.Journal;
using Loadshift.Rebalancer.Planning;
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
        var components = new Components(directory.Combine("journal.db"), hypervisor, inventory: inventory, metricsSource: metricsSource);
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

    [Fact]
    public async Task A_firing_host_a_migration_just_touched_gets_a_settling_decision_once_then_its_relief()
    {
        var clock = new ManualTimeProvider(new DateTimeOffset(2026, 11, 22, 3, 0, 0, TimeSpan.Zero));
        foreach (var domain in new[] { "vm1", "vm2", "vm3" })
        {
            hypervisor.Place(domain, "hv1");
        }
        metricsSource.Set(new() { ["hv1"] = 0.93, ["hv2"] = 0.04 },
            new() { [("hv1", "vm1")] = 0.30, [("hv1", "vm2")] = 0.29, [("hv1", "vm3")] = 0.31 });
        var policy = new PolicyOptions { SettleTime = TimeSpan.FromSeconds(90), DecisionWindow = TimeSpan.FromMinutes(1) };
        var components = new Components(directory.Combine("journal.db"), hypervisor, clock, policy, metricsSource: metricsSource);
        var journal = components.Journal;
        await journal.InitializeAsync(CancellationToken.None);
        await journal.RecordWebhookAsync(clock.GetUtcNow(), "g", "firing", "rebalancer", "{}", 0,
            [new AlertUpdate("fp", "HypervisorCpuHigh", "hv1", "rebalance", "firing", clock.GetUtcNow(), null, "{}")], CancellationToken.None);
        // A migration off hv1 ended just now.
        var earlier = await journal.StartMigrationAsync(clock.GetUtcNow().AddSeconds(-5), null, DecisionKind.Relief,
            new MigrationPlan("vm9", "hv1", "hv2", 0.2, 1 << 20, 1, 0.8, 0, 0.2), CancellationToken.None);
        await journal.FinishMigrationAsync(earlier, clock.GetUtcNow(), MigrationResults.Succeeded, 0, false, "", "hv2", null, CancellationToken.None);

        await components.Worker.RunPassAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(30));
        await components.Worker.RunPassAsync(CancellationToken.None);

        var settling = Assert.Single((await journal.ListDecisionsAsync(null, 10, CancellationToken.None)).Items);
        Assert.Equal(("relief", "hv1", "no_action", "settling"), (settling.Kind, settling.Host, settling.Outcome, settling.Reason));
        Assert.Contains("policy.settleTime", settling.Detail, StringComparison.Ordinal);
        Assert.Equal(1, await Series.ValueAsync(components.Metrics, "rebalancer_decisions_total{outcome=\"no_action\",reason=\"settling\"}"));
        Assert.Empty(hypervisor.Migrations);

        // Settled (90 s after the move), within the window of the settling decision: the relief is not held back.
        clock.Advance(TimeSpan.FromSeconds(61));
        await components.Worker.RunPassAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => Task.FromResult(components.Tracker.Count == 0 && hypervisor.Migrations.Count == 1), "the relief migration");
        Assert.Equal("overloaded", (await journal.ListDecisionsAsync(null, 1, CancellationToken.None)).Items.Single().Reason);
    }

    [Fact]
    public async Task A_domain_first_seen_on_two_hosts_gets_its_home_once_libvirt_shows_it_on_one()
    {
        var components = new Components(directory.Combine("journal.db"), hypervisor, metricsSource: metricsSource);
        await components.Journal.InitializeAsync(CancellationToken.None);
        // vm5 is in a migration from hv2 to hv1 when the Rebalancer first looks.
        hypervisor.Place("vm5", "hv2");
        hypervisor.Presences[("hv1", "vm5")] = new DomainPresence(true, "paused");

        await components.Observer.ObserveAsync(CancellationToken.None);
        Assert.False((await components.Journal.GetHomesAsync(CancellationToken.None)).ContainsKey("vm5"));

        hypervisor.Presences.Clear();
        await components.Observer.ObserveAsync(CancellationToken.None);
        Assert.Equal("hv2", (await components.Journal.GetHomesAsync(CancellationToken.None))["vm5"].HomeHost);
    }

    [Fact]
    public async Task Relief_sends_nothing_to_a_host_a_domain_just_arrived_on()
    {
        var inventory = new InventoryOptions
        {
            Hosts = [.. new[] { "hv1", "hv2", "hv3" }.Select(h => new InventoryHost { Name = h, LibvirtUri = $"qemu+tcp://{h}/system", CpuCapacity = 2 })],
        };
        hypervisor.Place("vm1", "hv1");
        hypervisor.Place("vm2", "hv1");
        metricsSource.Set(new() { ["hv1"] = 0.93, ["hv2"] = 0.04, ["hv3"] = 0.30 }, new() { [("hv1", "vm1")] = 0.50, [("hv1", "vm2")] = 0.43 });
        var components = new Components(directory.Combine("journal.db"), hypervisor, inventory: inventory, metricsSource: metricsSource);
        var journal = components.Journal;
        await journal.InitializeAsync(CancellationToken.None);
        await journal.RecordWebhookAsync(DateTimeOffset.UtcNow, "g", "firing", "rebalancer", "{}", 0,
            [new AlertUpdate("fp", "HypervisorCpuHigh", "hv1", "rebalance", "firing", DateTimeOffset.UtcNow, null, "{}")], CancellationToken.None);
        // vm9 arrived on hv2 from hv3 twenty seconds ago: hv2's 1m busy ratio (0.04) does not show it yet.
        var arrived = await journal.StartMigrationAsync(DateTimeOffset.UtcNow.AddSeconds(-25), null, DecisionKind.Relief,
            new MigrationPlan("vm9", "hv3", "hv2", 0.3, 1 << 20, 0.6, 0.3, 0, 0.3), CancellationToken.None);
        await journal.FinishMigrationAsync(arrived, DateTimeOffset.UtcNow.AddSeconds(-20), MigrationResults.Succeeded, 0, false, "", "hv2", null, CancellationToken.None);

        await components.Worker.RunPassAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => Task.FromResult(components.Tracker.Count == 0 && hypervisor.Migrations.Count == 1), "the relief migration");

        Assert.Equal(("vm2", "hv1", "hv3"), hypervisor.Migrations.Single());
    }
}
