using Loadshift.Rebalancer.Inventory;
using Loadshift.Rebalancer.Journal;
using Loadshift.Rebalancer.Metrics;
using Loadshift.Rebalancer.Planning;
using Microsoft.Extensions.Options;

namespace Loadshift.Rebalancer.Execution;

/// <summary>How a migration ended, after asking libvirt on both hosts.</summary>
/// <param name="Placement">The host libvirt reports the domain running on, or null when that is unclear.</param>
public sealed record MigrationResult(long MigrationId, string Outcome, string? Placement, TimeSpan Duration, string? Note, string Stderr);

/// <summary>A migration journaled as running and tracked, not yet run.</summary>
public sealed record StartedMigration(long Id, MigrationPlan Plan, InventoryHost Source, InventoryHost Target, DateTimeOffset StartedAt);

/// <summary>Runs one planned migration: journal it, <c>virsh migrate --live</c> with a deadline (then
/// <c>domjobabort</c>), verify the placement with libvirt on both hosts, journal and count the outcome.</summary>
public sealed class MigrationExecutor(
    IHypervisor hypervisor,
    SqliteJournal journal,
    MigrationTracker tracker,
    RebalancerMetrics metrics,
    IOptions<PolicyOptions> policyOptions,
    IOptions<InventoryOptions> inventoryOptions,
    TimeProvider time,
    ILogger<MigrationExecutor> logger) : IDisposable
{
    private readonly PolicyOptions policy = policyOptions.Value;
    private readonly InventoryOptions inventory = inventoryOptions.Value;

    /// <summary>Journaling a start and tracking it happen together, so settling never mistakes a migration of
    /// this process, journaled but not yet tracked, for one cut short by a crash.</summary>
    private readonly SemaphoreSlim startGate = new(1, 1);

    /// <summary>Journals and tracks the migration, then runs it (<see cref="StartAsync"/>, then <see cref="RunAsync"/>).</summary>
    public async Task<MigrationResult> ExecuteAsync(DecisionKind kind, MigrationPlan plan, long? decisionId, CancellationToken cancellationToken) =>
        await RunAsync(await StartAsync(kind, plan, decisionId, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);

    /// <summary>Journals the migration as running and tracks it. The worker awaits this before its pass ends, so the
    /// next pass (a webhook may start one at once) sees the migration in flight and never plans the same move again.</summary>
    public async Task<StartedMigration> StartAsync(DecisionKind kind, MigrationPlan plan, long? decisionId, CancellationToken cancellationToken)
    {
        var source = inventory.FindHost(plan.Source) ?? throw new ArgumentException($"{plan.Source} is not in the inventory", nameof(plan));
        var target = inventory.FindHost(plan.Target) ?? throw new ArgumentException($"{plan.Target} is not in the inventory", nameof(plan));
        var startedAt = time.GetUtcNow();
        await startGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var id = await journal.StartMigrationAsync(startedAt, decisionId, kind, plan, cancellationToken).ConfigureAwait(false);
            tracker.Add(id, new MigrationInFlight(plan.Domain, plan.Source, plan.Target, startedAt));
            return new StartedMigration(id, plan, source, target, startedAt);
        }
        finally
        {
            startGate.Release();
        }
    }

    /// <summary><c>virsh migrate</c>, then the placement read back from libvirt, journaled and counted.</summary>
    public async Task<MigrationResult> RunAsync(StartedMigration migration, CancellationToken cancellationToken)
    {
        var (id, plan, source, target, startedAt) = migration;
        try
        {
            Log.MigrationStarted(logger, id, plan.Domain, plan.Source, plan.Target);
            var attempt = await hypervisor.MigrateAsync(plan.Domain, source, target, policy.MigrationTimeout, policy.VirshFlags, cancellationToken)
                .ConfigureAwait(false);
            var placement = await VerifyPlacementAsync(plan.Domain, source, target, cancellationToken).ConfigureAwait(false);
            var duration = time.GetUtcNow() - startedAt;
            var (outcome, note) = Settle(attempt, placement, plan);
            await journal.FinishMigrationAsync(id, time.GetUtcNow(), outcome, attempt.ExitCode, attempt.Stderr, placement.Host, note, CancellationToken.None)
                .ConfigureAwait(false);
            Count(outcome, plan.Domain, duration);
            if (outcome == MigrationOutcomes.Succeeded)
            {
                Log.MigrationSucceeded(logger, id, plan.Domain, plan.Source, plan.Target, duration.TotalSeconds);
            }
            else
            {
                Log.MigrationFailed(logger, id, plan.Domain, plan.Source, plan.Target, outcome, placement.Host ?? "unknown",
                    CommandFailedException.Tail(attempt.Stderr, 500));
            }
            return new MigrationResult(id, outcome, placement.Host, duration, note, attempt.Stderr);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The journal row stays 'running'; the next pass settles it from libvirt's placement.
            Log.MigrationCrashed(logger, id, plan.Domain, e.Message);
            throw;
        }
        finally
        {
            tracker.Remove(id);
        }
    }

    public void Dispose() => startGate.Dispose();

    private void Count(string outcome, string domain, TimeSpan duration)
    {
        metrics.Migrations.Inc(outcome);
        metrics.MigrationDuration.Observe(duration.TotalSeconds);
        metrics.LastMigrationTimestamp.Set(time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0);
        if (outcome == MigrationOutcomes.Succeeded)
        {
            metrics.DomainMigrations.Inc(domain);
        }
    }

    private static (string Outcome, string? Note) Settle(MigrationAttempt attempt, Placement placement, MigrationPlan plan)
    {
        if (placement.Host == plan.Target)
        {
            return (MigrationOutcomes.Succeeded, attempt.Succeeded ? null : "virsh reported a failure, but libvirt shows the domain on the target");
        }
        if (attempt.TimedOut)
        {
            return (MigrationOutcomes.TimedOut, attempt.Aborted ? "deadline passed; domjobabort sent" : "deadline passed");
        }
        return (MigrationOutcomes.Failed, attempt.Succeeded ? "virsh reported success, but libvirt does not show the domain on the target" : null);
    }

    /// <param name="Host">Where the domain runs, when exactly one of the two hosts runs it.</param>
    internal sealed record Placement(string? Host, DomainPresence? OnSource, DomainPresence? OnTarget);

    /// <summary>Asks libvirt on both hosts. The domain is placed when exactly one of them runs it.</summary>
    internal async Task<Placement> VerifyPlacementAsync(string domain, InventoryHost source, InventoryHost target, CancellationToken cancellationToken)
    {
        var onSource = await PresenceAsync(source, domain, cancellationToken).ConfigureAwait(false);
        var onTarget = await PresenceAsync(target, domain, cancellationToken).ConfigureAwait(false);
        string? host = (onSource, onTarget) switch
        {
            ({ Running: false }, { Running: true }) => target.Name,
            ({ Running: true }, { Running: false }) => source.Name,
            _ => null,
        };
        return new Placement(host, onSource, onTarget);
    }

    private async Task<DomainPresence?> PresenceAsync(InventoryHost host, string domain, CancellationToken cancellationToken)
    {
        try
        {
            return await hypervisor.GetDomainPresenceAsync(host, domain, cancellationToken).ConfigureAwait(false);
        }
        catch (HypervisorUnavailableException e)
        {
            Log.HostUnreachable(logger, host.Name, e.Message);
            return null;
        }
    }

    /// <summary>Settles migrations the journal shows running that no task of this process runs (a crash or a
    /// restart cut them short) from where libvirt reports the domain. Left running while that is unclear
    /// (a host does not answer, or the domain shows on both: the migration may still be going on).</summary>
    public async Task<int> SettleInterruptedAsync(CancellationToken cancellationToken)
    {
        var settled = 0;
        IReadOnlyList<MigrationRecord> running;
        HashSet<long> mine;
        await startGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            running = await journal.GetRunningMigrationsAsync(cancellationToken).ConfigureAwait(false);
            mine = [.. tracker.Ids];
        }
        finally
        {
            startGate.Release();
        }
        foreach (var migration in running)
        {
            if (mine.Contains(migration.Id))
            {
                continue;
            }
            var source = inventory.FindHost(migration.Source);
            var target = inventory.FindHost(migration.Target);
            if (source is null || target is null)
            {
                continue;
            }
            var placement = await VerifyPlacementAsync(migration.Domain, source, target, cancellationToken).ConfigureAwait(false);
            if (placement.OnSource is null || placement.OnTarget is null)
            {
                continue;
            }
            string outcome;
            if (placement.Host == target.Name)
            {
                outcome = MigrationOutcomes.Succeeded;
            }
            else if (placement.Host == source.Name)
            {
                outcome = MigrationOutcomes.Failed;
            }
            else if (!placement.OnSource.Defined && !placement.OnTarget.Defined)
            {
                outcome = MigrationOutcomes.Interrupted;
            }
            else
            {
                continue;
            }
            var note = $"settled after a restart from libvirt: on {migration.Source} {Describe(placement.OnSource)}, on {migration.Target} {Describe(placement.OnTarget)}";
            await journal.FinishMigrationAsync(migration.Id, time.GetUtcNow(), outcome, null, migration.Stderr, placement.Host, note, cancellationToken)
                .ConfigureAwait(false);
            Log.MigrationSettled(logger, migration.Id, migration.Domain, outcome, placement.Host ?? "nowhere");
            settled++;
        }
        return settled;
    }

    private static string Describe(DomainPresence presence) => presence.Defined ? presence.State ?? "defined" : "absent";
}
