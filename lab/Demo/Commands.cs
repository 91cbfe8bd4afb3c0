using System.Globalization;
using System.Text;
using CliWrap;

namespace Loadshift.Lab.Demo;

/// <summary>The outcome of a finished command.</summary>
internal sealed record CommandResult(int ExitCode, string Output, string Error)
{
    public bool Succeeded => ExitCode == 0;
}

/// <summary>Runs programs through CliWrap: argument lists (never a shell string), LC_ALL=C, output and error kept.</summary>
internal static class Commands
{
    public static Command Of(string program, IEnumerable<string> arguments, StringBuilder output, StringBuilder error) =>
        Cli.Wrap(program)
            .WithArguments(arguments)
            .WithEnvironmentVariables(e => e.Set("LC_ALL", "C"))
            .WithValidation(CommandResultValidation.None)
            .WithStandardOutputPipe(PipeTarget.ToStringBuilder(output))
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(error));

    /// <summary>Runs a program to its end; past <paramref name="timeout"/> it is killed and the result says so.</summary>
    public static async Task<CommandResult> RunAsync(string program, IEnumerable<string> arguments, TimeSpan timeout,
        CancellationToken cancellationToken = default)
    {
        var output = new StringBuilder();
        var error = new StringBuilder();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            var result = await Of(program, arguments, output, error).ExecuteAsync(deadline.Token);
            return new CommandResult(result.ExitCode, output.ToString(), error.ToString());
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new CommandResult(-1, output.ToString(), $"{program} did not finish within {timeout.TotalSeconds} s");
        }
    }

    /// <summary>SIGTERM, which lab/load and the prober answer by reporting what they measured.</summary>
    public static async Task TerminateAsync(int pid) =>
        await RunAsync("kill", ["-TERM", pid.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(5));
}

/// <summary>A program that runs in the background (lab/load, the prober) until it ends or is stopped with
/// SIGTERM; its output is kept. Not stopped with CliWrap's graceful cancellation: that sends SIGINT, which a
/// program started from a script's background job (lab/demo runs this one so) inherits as ignored.</summary>
internal sealed class BackgroundCommand : IDisposable
{
    private readonly StringBuilder output = new();
    private readonly StringBuilder error = new();
    private readonly CancellationTokenSource kill = new();
    private readonly CommandTask<CliWrap.CommandResult> run;

    public BackgroundCommand(string program, IEnumerable<string> arguments) =>
        run = Commands.Of(program, arguments, output, error).ExecuteAsync(kill.Token);

    public bool HasExited => run.Task.IsCompleted;

    /// <summary>Stops it with SIGTERM (killed, with its children, after the grace) and returns its output; the exit
    /// code is -1 when it had to be killed.</summary>
    public async Task<CommandResult> StopAsync(TimeSpan grace)
    {
        if (!run.Task.IsCompleted)
        {
            await Commands.TerminateAsync(run.ProcessId);
        }
        kill.CancelAfter(grace);
        int exitCode;
        try
        {
            exitCode = (await run).ExitCode;
        }
        catch (OperationCanceledException)
        {
            exitCode = -1;
        }
        return new CommandResult(exitCode, output.ToString(), error.ToString());
    }

    public void Dispose()
    {
        kill.Cancel();
        kill.Dispose();
    }
}
