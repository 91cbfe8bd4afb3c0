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
        var components = new Components(directory.File("journal.db"), hypervisor);
        await components.Journal.InitializeAsync(CancellationToken.None);
        var result = await components.Executor.ExecuteAsync(DecisionKind.Relief, Plan, null, CancellationToken.None);
        return (components, result);
    }

    [Fact]
    public async Task A_verified_move_is_succeeded_journaled_and_counted()
    {
        var (components, result) = await RunAsync();

        Assert.Equal(MigrationOutcomes.Succeeded, result.Outcome);
        Assert.Equal("hv2", result.Placement);
        var row = (await components.Journal.ListMigrationsAsync(null, 1, CancellationToken.None)).Items.Single();
        Assert.Equal((MigrationOutcomes.Succeeded, "hv2"), (row.Outcome, row.Placement));
        Assert.NotNull(row.EndedAt);
        Assert.Equal(1, components.Metrics.Migrations.Value("succeeded"));
        Assert.Equal(0, components.Tracker.Count);
    }

    [Fact]
    public async Task A_failed_migration_keeps_the_stderr_and_the_domain_on_the_source()
    {
        hypervisor.FailWith = _ => new MigrationAttempt("virsh migrate", 1, "error: unable to connect to server", TimeSpan.FromSeconds(1), false, false);

        var (components, result) = await RunAsync();

        Assert.Equal(MigrationOutcomes.Failed, result.Outcome);
        Assert.Equal("hv1", result.Placement);
        var row = (await components.Journal.ListMigrationsAsync(null, 1, CancellationToken.None)).Items.Single();
        Assert.Contains("unable to connect", row.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, components.Metrics.Migrations.Value("failed"));
    }

    [Fact]
    public async Task A_migration_past_its_deadline_is_timed_out()
    {
        hypervisor.FailWith = _ => new MigrationAttempt("virsh migrate", -1, "", TimeSpan.FromMinutes(3), TimedOut: true, Aborted: true);

        var (components, result) = await RunAsync();

        Assert.Equal(MigrationOutcomes.TimedOut, result.Outcome);
        Assert.Contains("domjobabort", result.Note, StringComparison.Ordinal);
        Assert.Equal(1, components.Metrics.Migrations.Value("timed_out"));
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

        Assert.Equal(MigrationOutcomes.Succeeded, result.Outcome);
        Assert.NotNull(result.Note);
    }
}
