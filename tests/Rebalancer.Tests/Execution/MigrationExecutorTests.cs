using Loadshift.Rebalancer.Execution;
using Loadshift.Rebalancer.Journal;
using Loadshift.Rebalancer.Planning;
using Loadshift.Rebalancer.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Loadshift.Rebalancer.Tests.Execution;

/// <summary>The outcome comes from libvirt's placement afterwards, not from virsh's exit code alone.</summary>
public sealed class MigrationExecutorTests : IDisposable
{
    private static readonly MigrationPlan Plan = new("vm1", "hv1", "hv2", 0.3, 128 << 20, 0.9, 0.6, 0.1, 0.4);
    private readonly TempDirectory directory = new();
    private readonly FakeHypervisor hypervisor = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        directory.Dispose();
    }

    private async Task<(Components, MigrationResult)> RunAsync()
    {
        hypervisor.Place("vm1", "hv1");
        var components = new Components(directory.Combine("journal.db"), hypervisor);
        await components.Journal.InitializeAsync(CancellationToken.None);
        var result = await components.Executor.ExecuteAsync(DecisionKind.Relief, Plan, null, CancellationToken.None);
        return (components, result);
    }

    /// <summary>The deadline falls in the switch-over: paused on the target, still running on the source.</summary>
    private void TimeOutInTheSwitchOver() =>
        hypervisor.FailWith = domain =>
        {
            hypervisor.Presences[("hv2", domain)] = new DomainPresence(true, "paused");
            return new MigrationAttempt("virsh migrate", -1, "error: operation aborted: migration job", TimeSpan.FromMinutes(3), TimedOut: true, Aborted: true);
        };

    [Fact]
    public async Task A_verified_move_is_succeeded_journaled_and_counted()
    {
        var (components, result) = await RunAsync();

        Assert.Equal(MigrationResults.Succeeded, result.Result);
        Assert.Equal("hv2", result.Placement);
        var row = (await components.Journal.ListMigrationsAsync(null, 1, CancellationToken.None)).Items.Single();
        Assert.Equal((MigrationResults.Succeeded, "hv2"), (row.Result, row.Placement));
        Assert.NotNull(row.EndedAt);
        Assert.Equal(1, await components.MigrationsAsync("succeeded"));
        Assert.Equal(0, components.Tracker.Count);
    }

    [Fact]
    public async Task A_failed_migration_keeps_the_stderr_and_the_domain_on_the_source()
    {
        hypervisor.FailWith = _ => new MigrationAttempt("virsh migrate", 1, "error: unable to connect to server", TimeSpan.FromSeconds(1), false, false);

        var (components, result) = await RunAsync();

        Assert.Equal(MigrationResults.Failed, result.Result);
        Assert.Equal("hv1", result.Placement);
        var row = (await components.Journal.ListMigrationsAsync(null, 1, CancellationToken.None)).Items.Single();
        Assert.Contains("unable to connect", row.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, await components.MigrationsAsync("failed"));
    }

    [Fact]
    public async Task A_migration_past_its_deadline_is_timed_out()
    {
        hypervisor.FailWith = _ => new MigrationAttempt("virsh migrate", -1, "", TimeSpan.FromMinutes(3), TimedOut: true, Aborted: true);

        var (components, result) = await RunAsync();

        Assert.Equal(MigrationResults.TimedOut, result.Result);
        Assert.Contains("domjobabort", result.Note, StringComparison.Ordinal);
        Assert.Equal(1, await components.MigrationsAsync("timed_out"));
    }

    [Fact]
    public async Task Virsh_failing_after_the_domain_reached_the_target_still_counts_as_succeeded()
    {
        hypervisor.FailWith = domain =>
        {
            hypervisor.Place(domain, "hv2");
            return new MigrationAttempt("virsh migrate", 1, "error: connection reset after finish", TimeSpan.FromSeconds(1), false, false);
        };

        var (_, result) = await RunAsync();

        Assert.Equal(MigrationResults.Succeeded, result.Result);
        Assert.NotNull(result.Note);
    }

    [Fact]
    public async Task A_timeout_while_the_domain_runs_on_both_hosts_stays_open_until_libvirt_shows_where_it_went()
    {
        TimeOutInTheSwitchOver();

        var (components, result) = await RunAsync();

        Assert.Equal(MigrationResults.Running, result.Result);
        var open = Assert.Single(await components.Journal.GetRunningMigrationsAsync(CancellationToken.None));
        Assert.Contains("operation aborted", open.Stderr, StringComparison.Ordinal);
        Assert.Contains("running on both", open.Note, StringComparison.Ordinal);
        Assert.Equal(0, await components.MigrationsAsync("timed_out") + await components.MigrationsAsync("failed"));

        // libvirt completes the switch-over after all.
        hypervisor.Presences.Clear();
        hypervisor.Place("vm1", "hv2");
        Assert.Equal(1, await components.Executor.ResolveOpenMigrationsAsync(CancellationToken.None));

        var resolved = (await components.Journal.ListMigrationsAsync(null, 1, CancellationToken.None)).Items.Single();
        Assert.Equal((MigrationResults.Succeeded, "hv2", -1), (resolved.Result, resolved.Placement, resolved.ExitCode));
        Assert.Equal(1, await components.MigrationsAsync("succeeded"));
        Assert.Equal(1, await Series.ValueAsync(components.Metrics, "rebalancer_domain_migrations_total{domain=\"vm1\"}"));
    }

    [Fact]
    public async Task A_timeout_left_open_and_resolved_later_with_the_domain_on_the_source_is_timed_out_across_a_restart()
    {
        TimeOutInTheSwitchOver();
        var (before, result) = await RunAsync();
        Assert.Equal(MigrationResults.Running, result.Result);
        Assert.True(Assert.Single(await before.Journal.GetRunningMigrationsAsync(CancellationToken.None)).TimedOut);

        // The abort wins: libvirt drops the incoming side, the domain stays on the source. The process restarted meanwhile.
        SqliteConnection.ClearAllPools();
        hypervisor.Presences.Clear();
        var after = new Components(directory.Combine("journal.db"), hypervisor);
        await after.Journal.InitializeAsync(CancellationToken.None);
        Assert.Equal(1, await after.Executor.ResolveOpenMigrationsAsync(CancellationToken.None));

        var resolved = (await after.Journal.ListMigrationsAsync(null, 1, CancellationToken.None)).Items.Single();
        Assert.Equal((MigrationResults.TimedOut, "hv1", true), (resolved.Result, resolved.Placement, resolved.TimedOut));
        Assert.Contains("resolved from libvirt", resolved.Note, StringComparison.Ordinal);
        Assert.Equal((1, 0), (await after.MigrationsAsync("timed_out"), await after.MigrationsAsync("failed")));
    }

    [Fact]
    public async Task A_failure_while_the_target_does_not_answer_is_not_journaled_as_failed()
    {
        hypervisor.FailWith = domain =>
        {
            hypervisor.Place(domain, "hv2");
            hypervisor.Unreachable.Add("hv2");
            return new MigrationAttempt("virsh migrate", 1, "error: End of file while reading data", TimeSpan.FromSeconds(4), false, false);
        };

        var (components, result) = await RunAsync();

        Assert.Equal(MigrationResults.Running, result.Result);
        Assert.Equal(0, await components.MigrationsAsync("failed"));
        hypervisor.Unreachable.Clear();
        await components.Executor.ResolveOpenMigrationsAsync(CancellationToken.None);
        var resolved = (await components.Journal.ListMigrationsAsync(null, 1, CancellationToken.None)).Items.Single();
        Assert.Equal((MigrationResults.Succeeded, "hv2"), (resolved.Result, resolved.Placement));
    }
}
