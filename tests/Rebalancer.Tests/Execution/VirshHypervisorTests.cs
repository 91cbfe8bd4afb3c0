using System.Diagnostics;
using Loadshift.Rebalancer.Execution;
using Loadshift.Rebalancer.Inventory;
using Loadshift.Rebalancer.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Loadshift.Rebalancer.Tests.Execution;

/// <summary>How the Rebalancer runs virsh, against real processes: a script standing in for virsh (what it was
/// called with, a migration past its deadline, a libvirtd that refuses) and the real virsh on libvirt's test driver.
/// The real virsh against real hosts: Lab/LabExecutorTests.</summary>
public sealed class VirshHypervisorTests : IDisposable
{
    private static readonly InventoryHost Hv1 = new() { Name = "hv1", LibvirtUri = "qemu+tcp://10.0.0.1/system", CpuCapacity = 1 };
    private static readonly InventoryHost Hv2 = new() { Name = "hv2", LibvirtUri = "qemu+tcp://10.0.0.2/system", CpuCapacity = 1 };

    /// <summary>virsh migrate --verbose as it runs: progress on stderr; on SIGINT it aborts the job and says so.</summary>
    /// <remarks>The sleep waited for with <c>wait</c>: a trapped signal interrupts the wait at once (POSIX), where a
    /// foreground sleep would hold the trap until it ends, or, under load, lose the race with the test's deadline (the
    /// CI run of 2026-12-07 14:00 UTC saw no "operation aborted").</remarks>
    private const string MigrationInProgress = """
        migrate)
          trap 'echo "error: operation aborted: migration out: canceled by client" >&2; exit 1' INT
          echo "Migration: [ 42 %]" >&2
          while :; do sleep 0.1 & wait $!; done ;;
        """;

    private FakeVirsh? fake;

    public void Dispose() => fake?.Dispose();

    private VirshHypervisor Fake(string answers, TimeSpan? killGrace = null)
    {
        fake = new FakeVirsh(answers);
        return At(fake.Path, killGrace);
    }

    private static VirshHypervisor At(string path, TimeSpan? killGrace = null) =>
        new(Options.Create(new LibvirtOptions { VirshPath = path, QueryTimeout = TimeSpan.FromSeconds(5) }), TimeProvider.System,
            NullLogger<VirshHypervisor>.Instance)
        { KillGrace = killGrace ?? TimeSpan.FromSeconds(5) };

    [Fact]
    public async Task Migrate_runs_virsh_live_persistent_undefinesource_verbose_with_the_configured_flags_as_one_argument_each()
    {
        var virsh = Fake("migrate) exit 0 ;;");

        var attempt = await virsh.MigrateAsync("vm 1; rm -rf /", Hv1, Hv2, TimeSpan.FromMinutes(1), ["--p2p", "--auto-converge"], CancellationToken.None);

        Assert.True(attempt.Succeeded);
        Assert.Equal(
            ["-c", "qemu+tcp://10.0.0.1/system", "migrate", "--live", "--persistent", "--undefinesource", "--verbose",
             "--p2p", "--auto-converge", "--domain", "vm 1; rm -rf /", "--desturi", "qemu+tcp://10.0.0.2/system"],
            Assert.Single(fake!.Calls));
        Assert.StartsWith(fake.Path + " -c qemu+tcp://10.0.0.1/system migrate --live", attempt.CommandLine, StringComparison.Ordinal);
    }

    /// <summary>virsh 9.0's domjobinfo --rawstats during an outgoing migration: "Job type: N", a blank line, then
    /// libvirt's typed parameters as "field: value" (virsh-domain.c, cmdDomjobinfo).</summary>
    private const string JobInfoRunning = """
        domjobinfo) printf 'Job type: 2\n\noperation: 7\ntime_elapsed: 1250\ndata_total: 139722752\ndata_processed: 52428800\ndata_remaining: 87293952\nmemory_total: 139722752\nmemory_bps: 41943040\n' ;;
        """;

    [Fact]
    public async Task Job_progress_reads_domjobinfo_rawstats_on_the_host()
    {
        var virsh = Fake(JobInfoRunning);

        var job = await virsh.GetJobProgressAsync(Hv1, "vm1", CancellationToken.None);

        Assert.Equal(["-c", "qemu+tcp://10.0.0.1/system", "domjobinfo", "--rawstats", "--domain", "vm1"], Assert.Single(fake!.Calls));
        Assert.Equal(new JobProgress(139_722_752, 87_293_952, 52_428_800), job);
        Assert.Equal(0.375, job!.Ratio, 3);
    }

    [Fact]
    public void No_job_and_a_job_without_data_figures_are_no_progress()
    {
        Assert.Null(VirshHypervisor.ParseJobInfo("Job type: 0\n\n"));
        Assert.Null(VirshHypervisor.ParseJobInfo("Job type: 2\n\noperation: 7\ntime_elapsed: 12\n"));
        Assert.Equal(new JobProgress(100, 40, 60), VirshHypervisor.ParseJobInfo("data_total=100\ndata_remaining=40\n"));
    }

    [Fact]
    public async Task A_failed_migration_keeps_virshs_exit_code_and_stderr()
    {
        var virsh = Fake("migrate) echo 'Migration: [ 10 %]' >&2; echo 'error: operation failed: job aborted' >&2; exit 1 ;;");

        var attempt = await virsh.MigrateAsync("vm1", Hv1, Hv2, TimeSpan.FromMinutes(1), [], CancellationToken.None);

        Assert.False(attempt.Succeeded);
        Assert.False(attempt.TimedOut);
        Assert.Equal(1, attempt.ExitCode);
        Assert.Equal("Migration: [ 10 %]\nerror: operation failed: job aborted\n", attempt.Stderr);
    }

    [Fact]
    public async Task On_the_deadline_the_job_is_aborted_on_the_source_and_virsh_stops_with_what_it_said()
    {
        var virsh = Fake(MigrationInProgress);
        var clock = Stopwatch.StartNew();

        var attempt = await virsh.MigrateAsync("vm1", Hv1, Hv2, TimeSpan.FromMilliseconds(500), [], CancellationToken.None);

        Assert.True(attempt.TimedOut);
        Assert.True(attempt.Aborted);
        Assert.False(attempt.Succeeded);
        Assert.Equal(["-c", "qemu+tcp://10.0.0.1/system", "domjobabort", "--domain", "vm1"], fake!.Calls[1]);
        Assert.Contains("Migration: [ 42 %]", attempt.Stderr, StringComparison.Ordinal);
        // SIGINT (CliWrap's graceful cancellation) ended it well within the grace before a kill.
        Assert.Contains("operation aborted", attempt.Stderr, StringComparison.Ordinal);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(4));
    }

    [Fact]
    public async Task A_virsh_that_ignores_the_interrupt_is_killed_after_the_grace()
    {
        var virsh = Fake("""
            migrate)
              trap '' INT
              while :; do sleep 0.1; done ;;
            """, killGrace: TimeSpan.FromSeconds(1));
        var clock = Stopwatch.StartNew();

        var attempt = await virsh.MigrateAsync("vm1", Hv1, Hv2, TimeSpan.FromMilliseconds(300), [], CancellationToken.None);

        Assert.True(attempt.TimedOut);
        Assert.Equal(-1, attempt.ExitCode);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1.3), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Cancellation_stops_virsh_at_once_and_throws()
    {
        var virsh = Fake(MigrationInProgress);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var clock = Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            virsh.MigrateAsync("vm1", Hv1, Hv2, TimeSpan.FromMinutes(1), [], cancel.Token));

        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(3));
        Assert.DoesNotContain(fake!.Calls, c => c.Contains("domjobabort"));
    }

    [Fact]
    public async Task Placement_asks_list_all_then_domstate()
    {
        var virsh = Fake("""
            list) printf 'vm1\nvm2\n\n' ;;
            domstate) echo running ;;
            """);

        var present = await virsh.GetDomainPresenceAsync(Hv1, "vm2", CancellationToken.None);
        var absent = await virsh.GetDomainPresenceAsync(Hv1, "vm9", CancellationToken.None);

        Assert.Equal(new DomainPresence(true, "running"), present);
        Assert.False(absent.Defined);
        Assert.Equal(["-c", "qemu+tcp://10.0.0.1/system", "list", "--all", "--name"], fake!.Calls[0]);
        Assert.Equal(["-c", "qemu+tcp://10.0.0.1/system", "domstate", "--domain", "vm2"], fake.Calls[1]);
    }

    [Fact]
    public async Task A_host_whose_libvirt_refuses_throws_with_the_command_exit_code_stderr_and_what_to_check()
    {
        var virsh = Fake("list) echo 'error: failed to connect to the hypervisor' >&2; exit 1 ;;");

        var error = await Assert.ThrowsAsync<HypervisorUnavailableException>(() => virsh.ListRunningDomainsAsync(Hv1, CancellationToken.None));

        Assert.Equal("hv1", error.Host);
        var failure = Assert.IsType<CommandFailedException>(error.InnerException);
        Assert.Equal((1, "error: failed to connect to the hypervisor\n"), (failure.ExitCode, failure.Stderr));
        Assert.Contains($"'{fake!.Path} -c qemu+tcp://10.0.0.1/system list --name' exited with 1", error.Message, StringComparison.Ordinal);
        Assert.Contains("failed to connect", error.Message, StringComparison.Ordinal);
        Assert.Contains("Check that libvirtd listens at qemu+tcp://10.0.0.1/system", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_libvirtd_that_does_not_answer_is_unavailable_at_the_query_deadline()
    {
        var virsh = Fake("list) while :; do sleep 0.1 & wait $!; done ;;");
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<HypervisorUnavailableException>(() => virsh.ListRunningDomainsAsync(Hv1, CancellationToken.None));

        Assert.Contains("No answer within libvirt.queryTimeout (5 s)", error.Message, StringComparison.Ordinal);
        // Asked to stop at the deadline (5 s), killed at the latest the kill grace (5 s) later: a shell that defers the
        // interrupt to a running child took the whole grace in the CI run of 2026-12-07 14:00 UTC (10.04 s).
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(13));
    }

    [Fact]
    public async Task A_missing_virsh_says_which_path_was_tried()
    {
        var virsh = At("/nonexistent/virsh");

        var query = await Assert.ThrowsAsync<HypervisorUnavailableException>(() => virsh.ListRunningDomainsAsync(Hv1, CancellationToken.None));
        var migrate = await Assert.ThrowsAsync<CommandFailedException>(() =>
            virsh.MigrateAsync("vm1", Hv1, Hv2, TimeSpan.FromMinutes(1), [], CancellationToken.None));

        Assert.Contains("Is virsh installed? libvirt.virshPath is '/nonexistent/virsh'", query.Message, StringComparison.Ordinal);
        Assert.Null(migrate.ExitCode);
        Assert.Contains("did not start", migrate.Message, StringComparison.Ordinal);
    }

    /// <summary>The real virsh on libvirt's test driver (in-process, no daemon, no network).</summary>
    [Fact]
    public async Task A_domain_named_like_a_flag_reaches_the_real_virsh_as_a_name()
    {
        var test = new InventoryHost { Name = "test", LibvirtUri = "test:///default", CpuCapacity = 1 };
        var virsh = At("virsh");

        var attempt = await virsh.MigrateAsync("--p2p", test, test, TimeSpan.FromSeconds(30), [], CancellationToken.None);
        var presence = await virsh.GetDomainPresenceAsync(test, "test", CancellationToken.None);

        Assert.False(attempt.Succeeded);
        Assert.Contains("failed to get domain '--p2p'", attempt.Stderr, StringComparison.Ordinal);
        Assert.Equal(new DomainPresence(true, "running"), presence);
    }
}
