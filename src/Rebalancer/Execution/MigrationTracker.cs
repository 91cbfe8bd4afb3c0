using System.Collections.Concurrent;
using Loadshift.Rebalancer.Metrics;
using Loadshift.Rebalancer.Planning;

namespace Loadshift.Rebalancer.Execution;

/// <summary>The migrations this process runs now, by journal id.</summary>
public sealed class MigrationTracker(RebalancerMetrics metrics)
{
    private readonly ConcurrentDictionary<long, MigrationInFlight> running = new();

    public IReadOnlyList<MigrationInFlight> Snapshot() => [.. running.Values];

    public IReadOnlyCollection<long> Ids => [.. running.Keys];

    public int Count => running.Count;

    public bool Touches(string host) => running.Values.Any(m => m.Source == host || m.Target == host);

    internal void Add(long id, MigrationInFlight migration)
    {
        running[id] = migration;
        metrics.MigrationsInFlight.Set(running.Count);
    }

    internal void Remove(long id)
    {
        running.TryRemove(id, out _);
        metrics.MigrationsInFlight.Set(running.Count);
    }
}
