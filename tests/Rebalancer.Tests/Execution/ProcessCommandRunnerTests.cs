using Loadshift.Rebalancer.Execution;

namespace Loadshift.Rebalancer.Tests.Execution;

/// <summary>The runner against real processes.</summary>
public sealed class ProcessCommandRunnerTests
{
    private readonly ProcessCommandRunner runner = new(TimeProvider.System) { KillGrace = TimeSpan.FromSeconds(1) };

    [Fact]
    public async Task Exit_code_stdout_and_stderr_come_back_and_arguments_are_not_split_by_a_shell()
    {
        var result = await runner.RunAsync(new CommandSpec("/bin/sh", ["-c", "printf '%s\\n' \"$1\"; echo oops >&2; exit 3", "sh", "a b; rm -rf /"]),
            TimeSpan.FromSeconds(10), CancellationToken.None);

        Assert.Equal(3, result.ExitCode);
        Assert.Equal("a b; rm -rf /\n", result.Stdout);
        Assert.Equal("oops\n", result.Stderr);
        var error = Assert.Throws<CommandFailedException>(() => result.EnsureSuccess("Try again."));
        Assert.Contains("exited with 3", error.Message, StringComparison.Ordinal);
        Assert.Contains("oops", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task On_the_deadline_onTimeout_runs_then_the_process_is_killed()
    {
        var called = false;
        var started = DateTime.UtcNow;

        var result = await runner.RunAsync(new CommandSpec("sleep", ["30"]), TimeSpan.FromMilliseconds(300), CancellationToken.None,
            _ =>
            {
                called = true;
                return Task.CompletedTask;
            });

        Assert.True(result.TimedOut);
        Assert.True(called);
        // onTimeout did not stop sleep, so it waited the grace period, then killed it.
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromSeconds(1), runner.KillGrace + TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Without_onTimeout_the_process_is_killed_at_the_deadline()
    {
        var started = DateTime.UtcNow;

        var result = await runner.RunAsync(new CommandSpec("sleep", ["30"]), TimeSpan.FromMilliseconds(200), CancellationToken.None);

        Assert.True(result.TimedOut);
        Assert.False(result.Succeeded);
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.Zero, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Cancellation_kills_the_process_and_throws()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            runner.RunAsync(new CommandSpec("sleep", ["30"]), TimeSpan.FromMinutes(1), cancel.Token));
    }

    [Fact]
    public async Task A_missing_program_says_so()
    {
        var error = await Assert.ThrowsAsync<CommandFailedException>(() =>
            runner.RunAsync(new CommandSpec("/nonexistent/virsh", ["list"]), TimeSpan.FromSeconds(5), CancellationToken.None));

        Assert.Contains("installed", error.Message, StringComparison.Ordinal);
    }
}
