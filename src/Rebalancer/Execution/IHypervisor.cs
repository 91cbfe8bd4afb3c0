using Loadshift.Rebalancer.Inventory;

namespace Loadshift.Rebalancer.Execution;

/// <summary>What the Rebalancer asks of libvirt. The real one runs virsh; tests swap in a fake here, so the
/// planner and the worker never see processes.</summary>
public interface IHypervisor
{
    /// <summary>The running domains on a host. Throws <see cref="HypervisorUnavailableException"/> when
    /// libvirt does not answer.</summary>
    Task<IReadOnlyList<string>> ListRunningDomainsAsync(InventoryHost host, CancellationToken cancellationToken);

    /// <summary>Whether the host knows the domain and in which state (libvirt's words: running, paused, shut off).
    /// Throws <see cref="HypervisorUnavailableException"/> when libvirt does not answer.</summary>
    Task<DomainPresence> GetDomainPresenceAsync(InventoryHost host, string domain, CancellationToken cancellationToken);

    /// <summary>Live-migrates a domain; on the deadline the migration job is aborted. Never throws for a
    /// failed migration: the attempt says what happened.</summary>
    Task<MigrationAttempt> MigrateAsync(string domain, InventoryHost source, InventoryHost target, TimeSpan timeout,
        IReadOnlyList<string> extraFlags, CancellationToken cancellationToken);

    /// <summary>The statistics of the job libvirt runs for a domain on a host (a migration: on its source); null when
    /// none runs. Throws <see cref="HypervisorUnavailableException"/> when libvirt does not answer.</summary>
    Task<JobProgress?> GetJobProgressAsync(InventoryHost host, string domain, CancellationToken cancellationToken);
}

/// <summary>A migration's progress from libvirt's job statistics (memory and, with storage, disk).</summary>
/// <param name="TotalBytes">data_total: what the job has to copy so far (grows as the guest dirties memory).</param>
/// <param name="RemainingBytes">data_remaining: what is left of it.</param>
public sealed record JobProgress(long TotalBytes, long RemainingBytes, long ProcessedBytes)
{
    /// <summary>0..1 of the data copied; 0 before libvirt knows the total.</summary>
    public double Ratio => TotalBytes <= 0 ? 0 : Math.Clamp((double)(TotalBytes - RemainingBytes) / TotalBytes, 0, 1);
}

/// <param name="State">libvirt's state word when <paramref name="Defined"/>, else null.</param>
public sealed record DomainPresence(bool Defined, string? State)
{
    public static readonly DomainPresence Absent = new(false, null);

    public bool Running => Defined && State is "running" or "paused";
}

/// <param name="Aborted">The deadline passed and <c>virsh domjobabort</c> was sent.</param>
public sealed record MigrationAttempt(string CommandLine, int ExitCode, string Stderr, TimeSpan Duration, bool TimedOut, bool Aborted)
{
    public bool Succeeded => ExitCode == 0 && !TimedOut;
}

public sealed class HypervisorUnavailableException(string host, string message, Exception? inner = null)
    : Exception($"libvirt on {host}: {message}", inner)
{
    public string Host { get; } = host;
}
