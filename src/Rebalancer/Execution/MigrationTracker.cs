using System.Collections.Concurrent;
using Loadshift.Rebalancer.Metrics;
using Loadshift.Rebalancer.Planning;

namespace Loadshift.Rebalancer.Execution;

/// <summary>The migrations this process runs now, by journal id, and how many more the journal holds open
/// (libvirt could not say yet where their domain went): rebalancer_migrations_in_flight counts both, as the planner
/// does, set from them whenever /metrics is collected.</summary>
public sealed class MigrationTracker
{
    private readonly ConcurrentDictionary<long, MigrationInFlight> running = new();
    private int unresolved;

    public MigrationTracker(RebalancerMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        metrics.Registry.AddBeforeCollectCallback(() => metrics.MigrationsInFlight.Set(running.Count + Unresolved));
    }

    public IReadOnlyList<MigrationInFlight> Snapshot() => [.. running.Values];

    public IReadOnlyCollection<long> Ids => [.. running.Keys];

    public int Count => running.Count;

    public bool Touches(string host) => running.Values.Any(m => m.Source == host || m.Target == host);

    /// <summary>Migrations the journal shows running that no task of this process runs.</summary>
    public int Unresolved
    {
        get => Volatile.Read(ref unresolved);
        set => Volatile.Write(ref unresolved, value);
    }

    internal void Add(long id, MigrationInFlight migration) => running[id] = migration;

    internal void Remove(long id) => running.TryRemove(id, out _);
}
