using Loadshift.Rebalancer.Execution;
using Loadshift.Rebalancer.Inventory;
using Loadshift.Rebalancer.Journal;
using Loadshift.Rebalancer.Metrics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Loadshift.Rebalancer.Tests.Support;

/// <summary>The journal and the executor wired by hand, for tests below the HTTP surface.</summary>
internal sealed class Components
{
    public Components(string journalPath, IHypervisor hypervisor, TimeProvider? time = null, PolicyOptions? policy = null, InventoryOptions? inventory = null)
    {
        Metrics = new RebalancerMetrics(new MetricsRegistry());
        Time = time ?? TimeProvider.System;
        Inventory = inventory ?? new InventoryOptions
        {
            Hosts =
            [
                new InventoryHost { Name = "hv1", LibvirtUri = "qemu+tcp://10.0.0.1/system", CpuCapacity = 2 },
                new InventoryHost { Name = "hv2", LibvirtUri = "qemu+tcp://10.0.0.2/system", CpuCapacity = 2 },
            ],
        };
        Journal = new SqliteJournal(Options.Create(new JournalOptions { Path = journalPath }), Metrics);
        Tracker = new MigrationTracker(Metrics);
        Executor = new MigrationExecutor(hypervisor, Journal, Tracker, Metrics, Options.Create(policy ?? new PolicyOptions()),
            Options.Create(Inventory), Time, NullLogger<MigrationExecutor>.Instance);
    }

    public RebalancerMetrics Metrics { get; }

    public TimeProvider Time { get; }

    public InventoryOptions Inventory { get; }

    public SqliteJournal Journal { get; }

    public MigrationTracker Tracker { get; }

    public MigrationExecutor Executor { get; }
}
