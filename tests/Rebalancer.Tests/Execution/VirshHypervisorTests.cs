using Loadshift.Rebalancer.Execution;
using Loadshift.Rebalancer.Inventory;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Loadshift.Rebalancer.Tests.Execution;

/// <summary>The virsh command lines, checked as argument lists (nothing goes through a shell).</summary>
public sealed class VirshHypervisorTests
{
    private static readonly InventoryHost Hv1 = new() { Name = "hv1", LibvirtUri = "qemu+tcp://10.0.0.1/system", CpuCapacity = 1 };
    private static readonly InventoryHost Hv2 = new() { Name = "hv2", LibvirtUri = "qemu+tcp://10.0.0.2/system", CpuCapacity = 1 };

    private sealed class ScriptedRunner(Func<CommandSpec, CommandResult> answer, bool timeOutMigrations = false) : ICommandRunner
    {
        public List<CommandSpec> Commands { get; } = [];

        public async Task<CommandResult> RunAsync(CommandSpec command, TimeSpan timeout, CancellationToken cancellationToken,
            Func<CancellationToken, Task>? onTimeout = null)
        {
            Commands.Add(command);
            if (timeOutMigrations && command.Arguments.Contains("migrate"))
            {
                await onTimeout!(cancellationToken);
                return new CommandResult(command, -1, "", "Migration: [ 42 %]", timeout, TimedOut: true);
            }
            return answer(command);
        }
    }

    private static VirshHypervisor Virsh(ICommandRunner runner) =>
        new(runner, Options.Create(new LibvirtOptions()), NullLogger<VirshHypervisor>.Instance);

    private static CommandResult Ok(CommandSpec command, string stdout = "") => new(command, 0, stdout, "", TimeSpan.FromMilliseconds(5), false);

    [Fact]
    public async Task Migrate_runs_virsh_live_persistent_undefinesource_verbose_with_the_configured_flags()
    {
        var runner = new ScriptedRunner(c => Ok(c));

        var attempt = await Virsh(runner).MigrateAsync("vm 1", Hv1, Hv2, TimeSpan.FromMinutes(1), ["--p2p", "--auto-converge"], CancellationToken.None);

        Assert.True(attempt.Succeeded);
        var command = Assert.Single(runner.Commands);
        Assert.Equal("virsh", command.FileName);
        Assert.Equal(
            ["-c", "qemu+tcp://10.0.0.1/system", "migrate", "--live", "--persistent", "--undefinesource", "--verbose",
             "--p2p", "--auto-converge", "--domain", "vm 1", "--desturi", "qemu+tcp://10.0.0.2/system"],
            command.Arguments);
    }

    [Fact]
    public async Task On_the_deadline_the_migration_job_is_aborted_on_the_source()
    {
        var runner = new ScriptedRunner(c => Ok(c), timeOutMigrations: true);

        var attempt = await Virsh(runner).MigrateAsync("vm1", Hv1, Hv2, TimeSpan.FromSeconds(1), [], CancellationToken.None);

        Assert.True(attempt.TimedOut);
        Assert.True(attempt.Aborted);
        Assert.Equal(["-c", "qemu+tcp://10.0.0.1/system", "domjobabort", "--domain", "vm1"], runner.Commands[1].Arguments);
    }

    [Fact]
    public async Task Placement_asks_list_all_then_domstate()
    {
        var runner = new ScriptedRunner(c => c.Arguments.Contains("list") ? Ok(c, "vm1\nvm2\n\n") : Ok(c, "running\n"));
        var virsh = Virsh(runner);

        var present = await virsh.GetDomainPresenceAsync(Hv1, "vm2", CancellationToken.None);
        var absent = await virsh.GetDomainPresenceAsync(Hv1, "vm9", CancellationToken.None);

        Assert.True(present.Running);
        Assert.False(absent.Defined);
        Assert.Equal(["-c", "qemu+tcp://10.0.0.1/system", "list", "--all", "--name"], runner.Commands[0].Arguments);
        Assert.Equal(["-c", "qemu+tcp://10.0.0.1/system", "domstate", "--domain", "vm2"], runner.Commands[1].Arguments);
    }

    [Fact]
    public async Task A_host_whose_libvirt_does_not_answer_throws_with_the_command_and_what_to_check()
    {
        var runner = new ScriptedRunner(c => new CommandResult(c, 1, "", "error: failed to connect to the hypervisor", TimeSpan.Zero, false));

        var error = await Assert.ThrowsAsync<HypervisorUnavailableException>(() => Virsh(runner).ListRunningDomainsAsync(Hv1, CancellationToken.None));

        Assert.Equal("hv1", error.Host);
        Assert.Contains("failed to connect", error.Message, StringComparison.Ordinal);
        Assert.Contains("virsh -c qemu+tcp://10.0.0.1/system list", error.Message, StringComparison.Ordinal);
    }

    /// <summary>The real virsh on libvirt's test driver (in-process, no daemon, no network).</summary>
    [Fact]
    public async Task A_domain_named_like_a_flag_reaches_the_real_virsh_as_a_name()
    {
        var test = new InventoryHost { Name = "test", LibvirtUri = "test:///default", CpuCapacity = 1 };
        var virsh = Virsh(new ProcessCommandRunner(TimeProvider.System));

        var attempt = await virsh.MigrateAsync("--p2p", test, test, TimeSpan.FromSeconds(30), [], CancellationToken.None);
        var presence = await virsh.GetDomainPresenceAsync(test, "test", CancellationToken.None);

        Assert.False(attempt.Succeeded);
        Assert.Contains("failed to get domain '--p2p'", attempt.Stderr, StringComparison.Ordinal);
        Assert.Equal(new DomainPresence(true, "running"), presence);
    }
}
