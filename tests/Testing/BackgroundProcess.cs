using System.Text;
using CliWrap;

namespace Loadshift.Testing;

/// <summary>A long-running program of a test (Prometheus, Alertmanager, the blackbox exporter, the Exporter, lab/load):
/// started through CliWrap with an argument list and stdin closed, both streams kept for failure messages, it and its
/// children killed on dispose.</summary>
public sealed class BackgroundProcess : IDisposable
{
    private readonly StringBuilder output = new();
    private readonly CancellationTokenSource kill = new();
    private readonly CommandTask<CommandResult> execution;

    public BackgroundProcess(string program, IEnumerable<string> arguments, string workingDirectory)
    {
        Name = Path.GetFileName(program);
        execution = Cli.Wrap(Tool.Resolve(program))
            .WithArguments(arguments)
            .WithWorkingDirectory(workingDirectory)
            .WithValidation(CommandResultValidation.None)
            .WithStandardOutputPipe(Tool.Lines(output))
            .WithStandardErrorPipe(Tool.Lines(output))
            .ExecuteAsync(kill.Token);
    }

    public string Name { get; }

    public int Id => execution.ProcessId;

    /// <summary>Whether it has exited (and closed its output) by itself or by <see cref="Dispose"/>.</summary>
    public bool HasExited => execution.Task.IsCompleted;

    /// <summary>What it wrote to stdout and stderr so far, line by line as each came.</summary>
    public string Output => Tool.Text(output);

    /// <summary>Its exit code once it exits by itself (e.g. on a signal the test sent); a TimeoutException if it does
    /// not within <paramref name="timeout"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout) =>
        (await execution.Task.WaitAsync(timeout).ConfigureAwait(false)).ExitCode;

    public void Dispose()
    {
        kill.Cancel();
        try
        {
            // CliWrap waits for the killed process itself; this bounds the wait should the kill fail.
            execution.Task.Wait(TimeSpan.FromSeconds(10));
        }
        catch (AggregateException e) when (e.InnerExceptions.All(x => x is OperationCanceledException))
        {
            // Killed, as asked.
        }

        if (execution.Task.IsCompleted)
        {
            // A task still running (a kill that failed) cannot be disposed; it holds nothing but memory then.
            execution.Dispose();
        }

        kill.Dispose();
    }
}
