using System.Collections.Concurrent;
using Loadshift.Rebalancer.Cluster;
using Loadshift.Rebalancer.Execution;
using Loadshift.Rebalancer.Inventory;

namespace Loadshift.Rebalancer.Tests.Support;

/// <summary>libvirt in memory: which host runs which domain. Migrations move the domain at once (or fail,
/// or hang until the deadline, as a test asks).</summary>
public sealed class FakeHypervisor : IHypervisor
{
    private readonly ConcurrentDictionary<string, string> placement = new(StringComparer.Ordinal);

    public HashSet<string> Unreachable { get; } = new(StringComparer.Ordinal);

    public List<(string Domain, string Source, string Target)> Migrations { get; } = [];

    public Func<string, MigrationAttempt?>? FailWith { get; set; }

    public TimeSpan MigrationDelay { get; set; } = TimeSpan.Zero;

    /// <summary>When set, every migration waits for it (a migration the test holds in flight).</summary>
    public TaskCompletionSource? Hold { get; set; }

    /// <summary>What a host says of a domain beyond <see cref="Place"/>: paused as the incoming side of a
    /// migration, shut off, defined on two hosts.</summary>
    public ConcurrentDictionary<(string Host, string Domain), DomainPresence> Presences { get; } = new();

    public void Place(string domain, string host) => placement[domain] = host;

    /// <summary>The domain is on no host's list (placed nowhere).</summary>
    public void Remove(string domain) => placement.TryRemove(domain, out _);

    public string? HostOf(string domain) => placement.TryGetValue(domain, out var host) ? host : null;

    public Task<IReadOnlyList<string>> ListRunningDomainsAsync(InventoryHost host, CancellationToken cancellationToken)
    {
        if (Unreachable.Contains(host.Name))
        {
            throw new HypervisorUnavailableException(host.Name, "connection refused");
        }
        var running = placement.Where(p => p.Value == host.Name).Select(p => p.Key)
            .Union(Presences.Where(p => p.Key.Host == host.Name && p.Value.Running).Select(p => p.Key.Domain), StringComparer.Ordinal);
        return Task.FromResult<IReadOnlyList<string>>([.. running.Order(StringComparer.Ordinal)]);
    }

    private TaskCompletionSource? nextPresenceHold;

    /// <summary>When set, the next presence question (only that one) waits for it: a slow libvirt.</summary>
    public TaskCompletionSource? NextPresenceHold
    {
        get => Volatile.Read(ref nextPresenceHold);
        set => Volatile.Write(ref nextPresenceHold, value);
    }

    public async Task<DomainPresence> GetDomainPresenceAsync(InventoryHost host, string domain, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref nextPresenceHold, null) is { } hold)
        {
            await hold.Task.WaitAsync(cancellationToken);
        }
        if (Unreachable.Contains(host.Name))
        {
            throw new HypervisorUnavailableException(host.Name, "connection refused");
        }
        return Presences.TryGetValue((host.Name, domain), out var presence) ? presence
            : HostOf(domain) == host.Name ? new DomainPresence(true, "running") : DomainPresence.Absent;
    }

    /// <summary>What <see cref="GetJobProgressAsync"/> answers for a domain (libvirt's job statistics); none: no job.</summary>
    public ConcurrentDictionary<string, JobProgress> Jobs { get; } = new(StringComparer.Ordinal);

    public Task<JobProgress?> GetJobProgressAsync(InventoryHost host, string domain, CancellationToken cancellationToken) =>
        Unreachable.Contains(host.Name)
            ? throw new HypervisorUnavailableException(host.Name, "connection refused")
            : Task.FromResult(Jobs.TryGetValue(domain, out var job) ? job : null);

    public async Task<MigrationAttempt> MigrateAsync(string domain, InventoryHost source, InventoryHost target, TimeSpan timeout,
        IReadOnlyList<string> extraFlags, CancellationToken cancellationToken)
    {
        lock (Migrations)
        {
            Migrations.Add((domain, source.Name, target.Name));
        }
        if (MigrationDelay > TimeSpan.Zero)
        {
            await Task.Delay(MigrationDelay, cancellationToken);
        }
        if (Hold is { } hold)
        {
            await hold.Task.WaitAsync(cancellationToken);
        }
        if (FailWith?.Invoke(domain) is { } failure)
        {
            return failure;
        }
        placement[domain] = target.Name;
        return new MigrationAttempt($"virsh migrate {domain}", 0, "", TimeSpan.FromSeconds(1), false, false);
    }
}

/// <summary>Prometheus' answers, set by the test.</summary>
public sealed class FakeMetricsSource : IMetricsSource
{
    private readonly Lock gate = new();
    private LoadMetrics load = Empty();

    public bool Down { get; set; }

    /// <param name="memoryUsed">Each host's memory share as the Exporter measures it (of 8 GiB); null: 8 GiB available
    /// and no total (the planner then counts the inventory's memoryBytes).</param>
    public void Set(Dictionary<string, double> hostBusy, Dictionary<(string, string), double> domainShares,
        Dictionary<string, double>? calmMax = null, double domainMemory = 128 << 20, Dictionary<string, double>? memoryUsed = null)
    {
        const double Total = 8L << 30;
        lock (gate)
        {
            load = new LoadMetrics(
                hostBusy,
                calmMax ?? hostBusy,
                hostBusy.ToDictionary(h => h.Key, h => memoryUsed is null ? Total : Total * (1 - memoryUsed.GetValueOrDefault(h.Key))),
                hostBusy.ToDictionary(h => h.Key, _ => 2.0),
                domainShares,
                domainShares.ToDictionary(d => d.Key, _ => domainMemory),
                domainShares.ToDictionary(d => d.Key, _ => domainMemory),
                hostBusy.ToDictionary(h => h.Key, _ => 0.3),
                memoryUsed is null ? null : hostBusy.ToDictionary(h => h.Key, _ => Total));
        }
    }

    public Task<LoadMetrics> GetLoadAsync(TimeSpan calmWindow, CancellationToken cancellationToken)
    {
        if (Down)
        {
            throw new MetricsUnavailableException("Prometheus is down (fake)");
        }
        lock (gate)
        {
            return Task.FromResult(load);
        }
    }

    private static LoadMetrics Empty() => new(
        new Dictionary<string, double>(), new Dictionary<string, double>(), new Dictionary<string, double>(),
        new Dictionary<string, double>(), new Dictionary<(string, string), double>(),
        new Dictionary<(string, string), double>(), new Dictionary<(string, string), double>(), new Dictionary<string, double>());
}

/// <summary>A clock the test moves.</summary>
public sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset now = start;

    public override DateTimeOffset GetUtcNow() => now;

    public void Advance(TimeSpan by) => now += by;
}
