using System.Diagnostics;
using Loadshift.Lab.Demo;

namespace Loadshift.Demo.Tests;

/// <summary>Needs no lab: how the demo runs virsh and stops lab/load and the prober, against real processes.</summary>
public class CommandsTests
{
    [Fact]
    public async Task A_command_returns_its_exit_code_output_and_error_with_arguments_kept_whole()
    {
        var result = await Commands.RunAsync("/bin/sh", ["-c", "printf '%s\\n' \"$1\"; echo oops >&2; exit 3", "sh", "a b; rm -rf /"],
            TimeSpan.FromSeconds(10));

        Assert.Equal(new CommandResult(3, "a b; rm -rf /\n", "oops\n"), result);
    }

    [Fact]
    public async Task A_command_past_its_timeout_is_killed_and_says_so()
    {
        var clock = Stopwatch.StartNew();

        var result = await Commands.RunAsync("sleep", ["30"], TimeSpan.FromMilliseconds(300));

        Assert.Equal((-1, "sleep did not finish within 0.3 s"), (result.ExitCode, result.Error));
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_background_command_stopped_with_SIGTERM_reports_what_it_measured()
    {
        using var command = new BackgroundCommand("/bin/sh", ["-c", "trap 'echo measured; exit 0' TERM; while :; do sleep 0.1; done"]);
        await Task.Delay(300);

        var result = await command.StopAsync(TimeSpan.FromSeconds(5));

        Assert.Equal((0, "measured\n"), (result.ExitCode, result.Output));
        Assert.True(command.HasExited);
    }

    [Fact]
    public async Task A_background_command_that_ignores_SIGTERM_is_killed_after_the_grace()
    {
        using var command = new BackgroundCommand("/bin/sh", ["-c", "trap '' TERM; echo started; while :; do sleep 0.1; done"]);
        await Task.Delay(300);
        var clock = Stopwatch.StartNew();

        var result = await command.StopAsync(TimeSpan.FromSeconds(1));

        Assert.Equal((-1, "started\n"), (result.ExitCode, result.Output));
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(5));
    }
}
