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
    private readonly ConcurrentDictionary<long, JobProgress> progress = new();
    private readonly HashSet<(string Domain, string Source, string Target)> published = [];
    private int unresolved;

    public MigrationTracker(RebalancerMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        metrics.Registry.AddBeforeCollectCallback(() =>
        {
            metrics.MigrationsInFlight.Set(running.Count + Unresolved);
            PublishProgress(metrics);
        });
    }

    public IReadOnlyList<MigrationInFlight> Snapshot() => [.. running.Values];

    /// <summary>The migrations of this process with the last job statistics libvirt gave for each (none yet: null).</summary>
    public IReadOnlyList<MigrationProgress> Progress() =>
        [.. running.OrderBy(p => p.Key).Select(p => new MigrationProgress(p.Key, p.Value.Domain, p.Value.Source, p.Value.Target, p.Value.StartedAt,
            progress.GetValueOrDefault(p.Key)))];

    internal void SetProgress(long id, JobProgress job)
    {
        if (running.ContainsKey(id))
        {
            progress[id] = job;
        }
    }

    /// <summary>rebalancer_migration_{remaining,total}_bytes for each migration with statistics; the label sets of
    /// migrations that ended are removed.</summary>
    private void PublishProgress(RebalancerMetrics metrics)
    {
        lock (published)
        {
            var now = new HashSet<(string, string, string)>();
            foreach (var m in Progress().Where(m => m.Job is not null))
            {
                now.Add((m.Domain, m.Source, m.Target));
                metrics.MigrationRemainingBytes.WithLabels(m.Domain, m.Source, m.Target).Set(m.Job!.RemainingBytes);
                metrics.MigrationTotalBytes.WithLabels(m.Domain, m.Source, m.Target).Set(m.Job.TotalBytes);
            }
            foreach (var (domain, source, target) in published.Except(now).ToList())
            {
                metrics.MigrationRemainingBytes.RemoveLabelled(domain, source, target);
                metrics.MigrationTotalBytes.RemoveLabelled(domain, source, target);
                published.Remove((domain, source, target));
            }
            published.UnionWith(now);
        }
    }

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

    internal void Remove(long id)
    {
        running.TryRemove(id, out _);
        progress.TryRemove(id, out _);
    }
}

/// <summary>A migration of this process in flight, with libvirt's job statistics once it gave some.</summary>
public sealed record MigrationProgress(long MigrationId, string Domain, string Source, string Target, DateTimeOffset StartedAt, JobProgress? Job);
