using System.Diagnostics;
using System.Text;

namespace Loadshift.Rebalancer.Execution;

/// <summary>An immutable command: a program and its arguments as a list, never a shell string.</summary>
public sealed record CommandSpec(string FileName, IReadOnlyList<string> Arguments)
{
    /// <summary>For logs and the journal only; never executed.</summary>
    public override string ToString() =>
        string.Join(' ', new[] { FileName }.Concat(Arguments).Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"'{a}'" : a));
}

/// <param name="TimedOut">The deadline passed and the process was stopped.</param>
public sealed record CommandResult(CommandSpec Command, int ExitCode, string Stdout, string Stderr, TimeSpan Duration, bool TimedOut)
{
    public bool Succeeded => ExitCode == 0 && !TimedOut;

    /// <summary>Throws when the command failed, with the command line, exit code and stderr.</summary>
    public CommandResult EnsureSuccess(string whatToDo) =>
        Succeeded ? this : throw new CommandFailedException(this, whatToDo);
}

public sealed class CommandFailedException(CommandResult result, string whatToDo)
    : Exception($"'{result.Command}' {(result.TimedOut ? "timed out" : $"exited with {result.ExitCode}")}: {Tail(result.Stderr, 500)} {whatToDo}".TrimEnd())
{
    public CommandResult Result { get; } = result;

    internal static string Tail(string text, int max) => text.Length <= max ? text.Trim() : "..." + text[^max..].Trim();
}

public interface ICommandRunner
{
    /// <summary>Runs <paramref name="command"/> to its end or its deadline. On the deadline,
    /// <paramref name="onTimeout"/> runs first (e.g. virsh domjobabort, so the work stops cleanly), the process
    /// gets a grace period to exit, then it is killed with its children. Cancellation kills it at once and throws.</summary>
    Task<CommandResult> RunAsync(CommandSpec command, TimeSpan timeout, CancellationToken cancellationToken,
        Func<CancellationToken, Task>? onTimeout = null);
}

/// <summary>Runs commands with System.Diagnostics.Process (CliWrap is not available here).</summary>
internal sealed class ProcessCommandRunner(TimeProvider time) : ICommandRunner
{
    /// <summary>How long a process may take to exit after <c>onTimeout</c> before it is killed (virsh needs a
    /// moment to notice the aborted job and clean up).</summary>
    internal TimeSpan KillGrace { get; init; } = TimeSpan.FromSeconds(15);

    public async Task<CommandResult> RunAsync(CommandSpec command, TimeSpan timeout, CancellationToken cancellationToken,
        Func<CancellationToken, Task>? onTimeout = null)
    {
        var info = new ProcessStartInfo(command.FileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in command.Arguments)
        {
            info.ArgumentList.Add(argument);
        }
        // virsh prints localized messages otherwise; the journal and the tests want one language.
        info.Environment["LC_ALL"] = "C";

        var started = time.GetTimestamp();
        using var process = new Process { StartInfo = info };
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => Append(stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Append(stderr, e.Data);
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new CommandFailedException(
                new CommandResult(command, -1, "", e.Message, TimeSpan.Zero, false), $"Is {command.FileName} installed and on PATH?");
        }
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var timedOut = false;
        using (var deadline = new CancellationTokenSource(timeout, time))
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken))
        {
            try
            {
                await process.WaitForExitAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                timedOut = true;
            }
            catch (OperationCanceledException)
            {
                Kill(process);
                throw;
            }
        }
        if (timedOut)
        {
            if (onTimeout is not null)
            {
                try
                {
                    await onTimeout(cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    using var grace = new CancellationTokenSource(KillGrace, time);
                    using var linked = CancellationTokenSource.CreateLinkedTokenSource(grace.Token, cancellationToken);
                    try
                    {
                        await process.WaitForExitAsync(linked.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        Kill(process);
                    }
                }
            }
            Kill(process);
        }
        // Drain the asynchronous readers (WaitForExit without a timeout waits for EOF on both pipes).
        await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        var duration = time.GetElapsedTime(started);
        return new CommandResult(command, process.HasExited ? process.ExitCode : -1, Text(stdout), Text(stderr), duration, timedOut);
    }

    private static void Append(StringBuilder buffer, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (buffer)
        {
            buffer.AppendLine(line);
        }
    }

    private static string Text(StringBuilder buffer)
    {
        lock (buffer)
        {
            return buffer.ToString();
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }
}
