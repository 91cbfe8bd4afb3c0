using Loadshift.Rebalancer.Cluster;
using Loadshift.Rebalancer.Execution;
using Loadshift.Rebalancer.Inventory;
using Loadshift.Rebalancer.Journal;
using Loadshift.Rebalancer.Metrics;
using Loadshift.Rebalancer.Worker;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Loadshift.Rebalancer.Tests.Support;

/// <summary>The journal, the executor and the worker wired by hand, for tests below the HTTP surface.</summary>
internal sealed class Components
{
    public Components(string journalPath, IHypervisor hypervisor, TimeProvider? time = null, PolicyOptions? policy = null,
        InventoryOptions? inventory = null, IMetricsSource? metricsSource = null)
    {
        Metrics = new RebalancerMetrics();
        Time = time ?? TimeProvider.System;
        Inventory = inventory ?? new InventoryOptions
        {
            Hosts =
            [
                new InventoryHost { Name = "hv1", LibvirtUri = "qemu+tcp://10.0.0.1/system", CpuCapacity = 2 },
                new InventoryHost { Name = "hv2", LibvirtUri = "qemu+tcp://10.0.0.2/system", CpuCapacity = 2 },
            ],
        };
        var policyOptions = Options.Create(policy ?? new PolicyOptions());
        var inventoryOptions = Options.Create(Inventory);
        Journal = new SqliteJournal(Options.Create(new JournalOptions { Path = journalPath }), Metrics);
        Tracker = new MigrationTracker(Metrics);
        Executor = new MigrationExecutor(hypervisor, Journal, Tracker, Metrics, policyOptions,
            inventoryOptions, Time, NullLogger<MigrationExecutor>.Instance);
        Observer = new ClusterObserver(hypervisor, metricsSource ?? new FakeMetricsSource(), Journal, inventoryOptions, policyOptions, Time,
            NullLogger<ClusterObserver>.Instance);
        Worker = new RebalanceWorker(Observer, Journal, Executor, Tracker, new WorkerSignal(), Metrics, inventoryOptions, policyOptions,
            Options.Create(new JournalOptions { Path = journalPath }), Time, NullLogger<RebalanceWorker>.Instance);
    }

    public RebalancerMetrics Metrics { get; }

    /// <summary>rebalancer_migrations_total of a result, as /metrics would serve it now.</summary>
    public Task<double> MigrationsAsync(string result) => Series.ValueAsync(Metrics, $"rebalancer_migrations_total{{result=\"{result}\"}}");

    public TimeProvider Time { get; }

    public InventoryOptions Inventory { get; }

    public SqliteJournal Journal { get; }

    public MigrationTracker Tracker { get; }

    public MigrationExecutor Executor { get; }

    public ClusterObserver Observer { get; }

    public RebalanceWorker Worker { get; }
}
