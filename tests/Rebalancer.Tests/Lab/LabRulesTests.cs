using Loadshift.Rebalancer.Execution;
using Loadshift.Rebalancer.Inventory;
using Loadshift.Rebalancer.Journal;
using Loadshift.Rebalancer.Planning;
using Loadshift.Rebalancer.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Loadshift.Rebalancer.Tests.Lab;

/// <summary>Placement rules on the lab (issue 12's lab test): the worker's passes, real libvirt placement and real live
/// migrations between the lab's hosts, a hard anti-affinity group and a never-on rule respected by relief and by the
/// return home. The load figures come from a fake below IMetricsSource (the busy ratios relief acts on), so the test
/// says which move the rules allow, not how the lab's CPUs behave. Needs the lab (lab/up); leaves every VM home.</summary>
[Trait("Category", "Lab")]
[Collection(LabInventory.Collection)]
public sealed class LabRulesTests : IDisposable
{
    private readonly TempDirectory directory = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        directory.Dispose();
    }

    [Fact]
    public async Task A_hard_group_and_a_never_rule_hold_for_relief_and_return_home()
    {
        var lab = Loadshift.Testing.RunningLab.Read();
        var inventory = new InventoryOptions
        {
            Hosts = LabInventory.Hosts(lab),
            // vm1 and vm2 never share a host; vm2 never runs on hv3.
            Rules = new RuleOptions
            {
                AntiAffinity = [new DomainGroupOptions { Name = "pair", Domains = ["vm1", "vm2"], Hard = true }],
                DomainHost = [new DomainHostOptions { Domain = "vm2", Never = ["hv3"] }],
            },
        };
        foreach (var vm in lab.Vms)
        {
            inventory.FindHost(vm.HomeHost)!.Home.Add(vm.Name);
        }
        var virsh = new VirshHypervisor(Options.Create(new LibvirtOptions()), TimeProvider.System, NullLogger<VirshHypervisor>.Instance);
        var metrics = new FakeMetricsSource();
        var policy = new PolicyOptions { MigrationTimeout = TimeSpan.FromMinutes(2), SettleTime = TimeSpan.Zero, ReturnHomeAfter = TimeSpan.FromSeconds(1) };
        var components = new Components(directory.Combine("journal.db"), virsh, policy: policy, inventory: inventory, metricsSource: metrics);
        var journal = components.Journal;
        await journal.InitializeAsync(CancellationToken.None);
        var hv1 = inventory.FindHost("hv1")!;
        var hv2 = inventory.FindHost("hv2")!;
        var running = await virsh.ListRunningDomainsAsync(hv1, CancellationToken.None);
        Assert.True(new[] { "vm1", "vm2", "vm3" }.All(running.Contains), $"vm1..vm3 must be home on hv1 (hv1 runs: {string.Join(", ", running)}); run lab/up");

        try
        {
            // vm1 to hv2 first (by the executor, as an earlier relief would have): the group is kept apart from then on.
            var first = await components.Executor.ExecuteAsync(DecisionKind.Relief, new MigrationPlan("vm1", "hv1", "hv2", 0, 0, 0, 0, 0, 0), null,
                CancellationToken.None);
            Assert.True(first.Result == MigrationResults.Succeeded, $"vm1 hv1 -> hv2: {first.Result} ({first.Note}) {first.Stderr}");

            // hv1 overloaded: vm2 (0.30) is the lightest domain that relieves it, but hv2 holds vm1 (the group) and hv3 is
            // never vm2's: vm3 goes, to hv2 (the most headroom).
            metrics.Set(new() { ["hv1"] = 0.93, ["hv2"] = 0.04, ["hv3"] = 0.10 },
                new() { [("hv1", "vm2")] = 0.30, [("hv1", "vm3")] = 0.45, [("hv2", "vm1")] = 0.02 });
            await journal.RecordWebhookAsync(DateTimeOffset.UtcNow, "g", "firing", "rebalancer", "{}", 0,
                [new AlertUpdate("fp", "HypervisorCpuHigh", "hv1", "rebalance", "firing", DateTimeOffset.UtcNow, null, "{}")], CancellationToken.None);
            await components.Worker.RunPassAsync(CancellationToken.None);
            await Eventually.TrueAsync(async () => (await journal.GetRunningMigrationsAsync(CancellationToken.None)).Count == 0 && components.Tracker.Count == 0,
                "the relief migration", timeoutSeconds: 180);
            var relief = (await journal.ListMigrationsAsync(null, 10, CancellationToken.None)).Items[0];
            Assert.Equal(("vm3", "hv1", "hv2", MigrationResults.Succeeded), (relief.Domain, relief.Source, relief.Target, relief.Result));
            Assert.Contains("vm2", await virsh.ListRunningDomainsAsync(hv1, CancellationToken.None));

            // The alert resolved, hv1 calm: vm3 comes home; vm1 may not, since vm2 runs there (the hard group).
            await journal.RecordWebhookAsync(DateTimeOffset.UtcNow, "g", "resolved", "rebalancer", "{}", 0,
                [new AlertUpdate("fp", "HypervisorCpuHigh", "hv1", "rebalance", "resolved", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, "{}")],
                CancellationToken.None);
            metrics.Set(new() { ["hv1"] = 0.10, ["hv2"] = 0.10, ["hv3"] = 0.05 },
                new() { [("hv1", "vm2")] = 0.05, [("hv2", "vm3")] = 0.05, [("hv2", "vm1")] = 0.02 });
            for (var pass = 0; pass < 3; pass++)
            {
                await components.Worker.RunPassAsync(CancellationToken.None);
                await Eventually.TrueAsync(() => Task.FromResult(components.Tracker.Count == 0), "the return home", timeoutSeconds: 180);
            }
            var moves = (await journal.ListMigrationsAsync(null, 10, CancellationToken.None)).Items;
            Assert.Equal(["vm1 hv1->hv2", "vm3 hv1->hv2", "vm3 hv2->hv1"], moves.Reverse().Select(m => $"{m.Domain} {m.Source}->{m.Target}"));
            Assert.All(moves, m => Assert.Equal(MigrationResults.Succeeded, m.Result));
            Assert.Contains("vm1", await virsh.ListRunningDomainsAsync(hv2, CancellationToken.None));
            Assert.Empty(components.Worker.LastViolations);
        }
        finally
        {
            // Everything home again, whatever happened above.
            foreach (var host in inventory.Hosts.Where(h => h.Name != "hv1"))
            {
                foreach (var domain in (await virsh.ListRunningDomainsAsync(host, CancellationToken.None)).Where(d => d is "vm1" or "vm2" or "vm3"))
                {
                    await components.Executor.ExecuteAsync(DecisionKind.ReturnHome, new MigrationPlan(domain, host.Name, "hv1", 0, 0, 0, 0, 0, 0), null,
                        CancellationToken.None);
                }
            }
        }
        Assert.True(new[] { "vm1", "vm2", "vm3" }.All((await virsh.ListRunningDomainsAsync(hv1, CancellationToken.None)).Contains));
    }
}
