using Loadshift.Rebalancer.Inventory;
using Loadshift.Rebalancer.Journal;
using Loadshift.Rebalancer.Metrics;
using Loadshift.Rebalancer.Planning;
using Microsoft.Extensions.Options;

namespace Loadshift.Rebalancer.Execution;

/// <summary>How a migration ended, after asking libvirt on both hosts.</summary>
/// <param name="Placement">The host libvirt reports the domain running on, or null when that is unclear.</param>
public sealed record MigrationResult(long MigrationId, string Result, string? Placement, TimeSpan Duration, string? Note, string Stderr);

/// <summary>A migration journaled as running and tracked, not yet run.</summary>
public sealed record StartedMigration(long Id, MigrationPlan Plan, InventoryHost Source, InventoryHost Target, DateTimeOffset StartedAt);

/// <summary>Runs one planned migration: journal it, <c>virsh migrate --live</c> with a deadline (then
/// <c>domjobabort</c>), verify the placement with libvirt on both hosts, journal and count the result.</summary>
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

    /// <summary>Journaling a start and tracking it happen together, so resolving never mistakes a migration of
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
            // virsh's exit code is not the truth (it can fail or time out after the switch-over): libvirt is asked.
            var placement = await LocateAsync(plan.Domain, source, target, cancellationToken).ConfigureAwait(false);
            var duration = time.GetUtcNow() - startedAt;
            if (!placement.Known)
            {
                // Not journaled as failed while the domain may be on the target: the row stays open, counts as in
                // flight, and a later pass resolves it once libvirt can say where the domain is.
                var open = $"virsh {Exited(attempt)}; placement unclear ({placement.Description}): left open, resolved from libvirt on a later pass";
                await journal.RecordAttemptAsync(id, attempt.ExitCode, attempt.TimedOut, attempt.Stderr, open, CancellationToken.None).ConfigureAwait(false);
                Log.MigrationUnresolved(logger, id, plan.Domain, placement.Description);
                return new MigrationResult(id, MigrationResults.Running, null, duration, open, attempt.Stderr);
            }
            var result = ResultOf(placement, plan.Target, attempt.TimedOut);
            var note = Note(attempt, result, placement);
            await journal.FinishMigrationAsync(id, time.GetUtcNow(), result, attempt.ExitCode, attempt.TimedOut, attempt.Stderr, placement.Host, note,
                CancellationToken.None)
                .ConfigureAwait(false);
            Count(result, plan.Domain);
            metrics.MigrationDuration.Observe(duration.TotalSeconds);
            if (result == MigrationResults.Succeeded)
            {
                Log.MigrationSucceeded(logger, id, plan.Domain, plan.Source, plan.Target, duration.TotalSeconds);
            }
            else
            {
                Log.MigrationFailed(logger, id, plan.Domain, plan.Source, plan.Target, result, placement.Host ?? "no host",
                    CommandFailedException.Tail(attempt.Stderr, 500));
            }
            return new MigrationResult(id, result, placement.Host, duration, note, attempt.Stderr);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The journal row stays 'running'; the next pass resolves it from libvirt's placement.
            Log.MigrationCrashed(logger, id, plan.Domain, e.Message);
            throw;
        }
        finally
        {
            tracker.Remove(id);
        }
    }

    public void Dispose() => startGate.Dispose();

    private void Count(string result, string domain)
    {
        metrics.Migrations.WithLabels(result).Inc();
        metrics.LastMigrationTimestamp.Set(time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0);
        if (result == MigrationResults.Succeeded)
        {
            metrics.DomainMigrations.WithLabels(domain).Inc();
        }
    }

    /// <summary>The migration's result from where libvirt has the domain: running on the target, the move happened whatever virsh
    /// said; running nowhere (shut off where it is defined, or on no host), the guest is down: interrupted.</summary>
    private static string ResultOf(Placement placement, string target, bool timedOut) =>
        !placement.Running ? MigrationResults.Interrupted
        : placement.Host == target ? MigrationResults.Succeeded
        : timedOut ? MigrationResults.TimedOut
        : MigrationResults.Failed;

    private static string Note(MigrationAttempt attempt, string result, Placement placement)
    {
        var why = (result, attempt.Succeeded) switch
        {
            (MigrationResults.Succeeded, false) => $"virsh {Exited(attempt)}, but libvirt shows the domain on the target; ",
            (MigrationResults.Succeeded, true) => "",
            (_, true) => "virsh reported success, but libvirt does not show the domain on the target; ",
            _ when attempt.TimedOut => $"deadline passed{(attempt.Aborted ? "; domjobabort sent" : "")}; ",
            _ => "",
        };
        return $"{why}libvirt: {placement.Description}";
    }

    private static string Exited(MigrationAttempt attempt) => attempt.TimedOut
        ? $"timed out{(attempt.Aborted ? " (domjobabort sent)" : "")}"
        : $"exited with {attempt.ExitCode}";

    /// <summary>Where libvirt has a domain after a migration, in the journal's words.</summary>
    /// <param name="Known">False while that cannot be said: a host does not answer, or the domain runs on both
    /// hosts (the migration may still be going on).</param>
    /// <param name="Host">The host running the domain, else the one defining it (shut off); null when no host has it.</param>
    /// <param name="Running">The domain runs (or is paused) on <paramref name="Host"/>.</param>
    internal sealed record Placement(bool Known, string? Host, string Description, bool Running = false);

    /// <summary>Asks libvirt on both hosts and, when neither has the domain, on every other host of the inventory.</summary>
    internal async Task<Placement> LocateAsync(string domain, InventoryHost source, InventoryHost target, CancellationToken cancellationToken)
    {
        var onSource = await PresenceAsync(source, domain, cancellationToken).ConfigureAwait(false);
        var onTarget = await PresenceAsync(target, domain, cancellationToken).ConfigureAwait(false);
        var seen = $"on {source.Name} {Describe(onSource)}, on {target.Name} {Describe(onTarget)}";
        if (onSource is null || onTarget is null)
        {
            return new Placement(false, null, seen);
        }
        if (onSource.Running && onTarget.Running)
        {
            return new Placement(false, null, $"{seen}: running on both");
        }
        if (onSource.Running || onTarget.Running)
        {
            return new Placement(true, onSource.Running ? source.Name : target.Name, seen, Running: true);
        }
        // Running on neither (shut off, crashed): with --undefinesource the definition says which host has it.
        if (onSource.Defined || onTarget.Defined)
        {
            return onSource.Defined && onTarget.Defined
                ? new Placement(false, null, $"{seen}: defined on both, running on neither")
                : new Placement(true, onSource.Defined ? source.Name : target.Name, seen);
        }
        return await FindRunningAsync(domain, inventory.Hosts.Where(h => h.Name != source.Name && h.Name != target.Name), seen, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>Which of <paramref name="hosts"/> runs the domain: known when exactly one does, or none does and all answered.</summary>
    private async Task<Placement> FindRunningAsync(string domain, IEnumerable<InventoryHost> hosts, string seen, CancellationToken cancellationToken)
    {
        var running = new List<string>();
        var silent = new List<string>();
        foreach (var host in hosts)
        {
            try
            {
                if ((await hypervisor.ListRunningDomainsAsync(host, cancellationToken).ConfigureAwait(false)).Contains(domain, StringComparer.Ordinal))
                {
                    running.Add(host.Name);
                }
            }
            catch (HypervisorUnavailableException e)
            {
                Log.HostUnreachable(logger, host.Name, e.Message);
                silent.Add(host.Name);
            }
        }
        return (running.Count, silent.Count) switch
        {
            (1, 0) => new Placement(true, running[0], $"{seen}, running on {running[0]}", Running: true),
            (0, 0) => new Placement(true, null, $"{seen}, on no other host"),
            (0, _) => new Placement(false, null, $"{seen}; {string.Join(", ", silent)} do(es) not answer"),
            _ => new Placement(false, null, $"{seen}, running on {string.Join(" and ", running)}"),
        };
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

    /// <summary>Resolves migrations the journal shows running that no task of this process runs (a crash or a
    /// restart cut them short, or libvirt could not say where the domain went when virsh ended) from where libvirt
    /// reports the domain. Left open while that is unclear; counted once resolved.</summary>
    public async Task<int> ResolveOpenMigrationsAsync(CancellationToken cancellationToken)
    {
        var resolved = 0;
        IReadOnlyList<MigrationRecord> running;
        HashSet<long> mine;
        await startGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // This process's first: one that ends between the two reads is then either still known as ours or no
            // longer running in the journal, never taken for one cut short.
            mine = [.. tracker.Ids];
            running = await journal.GetRunningMigrationsAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            startGate.Release();
        }
        foreach (var migration in running.Where(m => !mine.Contains(m.Id)))
        {
            var source = inventory.FindHost(migration.Source);
            var target = inventory.FindHost(migration.Target);
            // A host taken out of the inventory since: the domain is looked for on the hosts that remain, and the
            // migration is not left open (in flight) forever.
            var placement = source is not null && target is not null
                ? await LocateAsync(migration.Domain, source, target, cancellationToken).ConfigureAwait(false)
                : await FindRunningAsync(migration.Domain, inventory.Hosts,
                    $"{(source is null ? migration.Source : migration.Target)} is no longer in the inventory", cancellationToken).ConfigureAwait(false);
            if (!placement.Known)
            {
                Log.MigrationUnresolved(logger, migration.Id, migration.Domain, placement.Description);
                continue;
            }
            // Timed out as journaled when virsh passed its deadline (a crash mid-migration never did): a domain that
            // stayed off the target is timed_out then, as it would have been had libvirt answered at once.
            var result = source is not null && target is not null ? ResultOf(placement, migration.Target, migration.TimedOut)
                : placement.Host == migration.Target ? MigrationResults.Succeeded
                : migration.TimedOut ? MigrationResults.TimedOut
                : MigrationResults.Failed;
            var note = $"{(migration.Note is { } earlier ? earlier + "; " : "")}resolved from libvirt: {placement.Description}";
            if (!await journal.FinishMigrationAsync(migration.Id, time.GetUtcNow(), result, migration.ExitCode, migration.TimedOut, migration.Stderr,
                placement.Host, note, cancellationToken).ConfigureAwait(false))
            {
                continue;
            }
            Count(result, migration.Domain);
            Log.MigrationResolved(logger, migration.Id, migration.Domain, result, placement.Host ?? "no host");
            resolved++;
        }
        return resolved;
    }

    private static string Describe(DomainPresence? presence) =>
        presence is null ? "unknown (no answer)" : presence.Defined ? presence.State ?? "defined" : "absent";
}
