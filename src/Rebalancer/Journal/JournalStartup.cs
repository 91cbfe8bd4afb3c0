using Loadshift.Rebalancer.Execution;
using Loadshift.Rebalancer.Inventory;
using Loadshift.Rebalancer.Metrics;
using Microsoft.Extensions.Options;

namespace Loadshift.Rebalancer.Journal;

/// <summary>Before the worker starts: open the journal, record the inventory's home hosts, and resolve the
/// migrations an earlier process left running from what libvirt reports.</summary>
internal sealed class JournalStartup(
    SqliteJournal journal,
    MigrationExecutor executor,
    IOptions<InventoryOptions> inventory,
    IOptions<PolicyOptions> policy,
    TimeProvider time,
    ILogger<JournalStartup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Log.Starting(logger, RebalancerMetrics.Version, inventory.Value.Hosts.Count, journal.Path, policy.Value.DryRun);
        foreach (var step in await journal.InitializeAsync(cancellationToken).ConfigureAwait(false))
        {
            Log.JournalSchemaStep(logger, journal.Path, step.Version, step.Description);
        }
        var homes = inventory.Value.ConfiguredHomes().Select(p => (p.Key, p.Value));
        await journal.SetHomesAsync(homes, "inventory", overwrite: true, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        // Hosts that do not answer now leave their migrations running in the journal; every pass retries.
        await executor.ResolveOpenMigrationsAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
