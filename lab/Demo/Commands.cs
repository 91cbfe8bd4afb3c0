using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Loadshift.Lab.Demo;

/// <summary>The outcome of a finished command.</summary>
internal sealed record CommandResult(int ExitCode, string Output, string Error)
{
    public bool Succeeded => ExitCode == 0;
}

/// <summary>Runs programs with argument lists (never a shell string), with a deadline.</summary>
internal static class Commands
{
    public static async Task<CommandResult> RunAsync(string program, IEnumerable<string> arguments, TimeSpan timeout,
        CancellationToken cancellationToken = default)
    {
        using var process = new Process { StartInfo = StartInfo(program, arguments) };
        process.Start();
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            return new CommandResult(-1, await output, $"{program} did not finish within {timeout.TotalSeconds} s");
        }
        return new CommandResult(process.ExitCode, await output, await error);
    }

    public static ProcessStartInfo StartInfo(string program, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        info.Environment["LC_ALL"] = "C";
        return info;
    }

    /// <summary>SIGTERM, which lab/load and the prober answer by reporting what they measured.</summary>
    public static void Terminate(int pid)
    {
        using var kill = Process.Start(StartInfo("kill", ["-TERM", pid.ToString(CultureInfo.InvariantCulture)]));
        kill?.WaitForExit(5000);
    }
}

/// <summary>A program that runs in the background (lab/load, the prober) until it ends or is stopped with
/// SIGTERM; its standard output is kept.</summary>
internal sealed class BackgroundCommand : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();
    private readonly StringBuilder error = new();

    public BackgroundCommand(string program, IEnumerable<string> arguments)
    {
        process = new Process { StartInfo = Commands.StartInfo(program, arguments) };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(error, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        StartedAt = DateTimeOffset.UtcNow;
    }

    public DateTimeOffset StartedAt { get; }

    public bool HasExited => process.HasExited;

    /// <summary>Stops it with SIGTERM (SIGKILL after the grace) and returns its output.</summary>
    public async Task<CommandResult> StopAsync(TimeSpan grace)
    {
        if (!process.HasExited)
        {
            Commands.Terminate(process.Id);
        }
        using var deadline = new CancellationTokenSource(grace);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }
        lock (output)
        {
            return new CommandResult(process.ExitCode, output.ToString(), error.ToString());
        }
    }

    public void Dispose()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // It ended meanwhile.
        }
        process.Dispose();
    }

    private void Append(StringBuilder to, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (output)
        {
            to.AppendLine(line);
        }
    }
}
