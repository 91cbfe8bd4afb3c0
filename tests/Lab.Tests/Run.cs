using System.Diagnostics;

namespace Loadshift.Lab.Tests;

internal sealed record RunResult(string Command, int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"{Command} exited {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>Runs a program with an argument list (never a shell string) and collects its output.</summary>
internal static class Run
{
    public static async Task<RunResult> Async(string file, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = LabState.RepoRoot,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        var command = string.Join(' ', [file, .. start.ArgumentList]);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {command}");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{command} did not finish within {timeout}");
        }
        return new RunResult(command, process.ExitCode, await stdout, await stderr);
    }

    /// <summary>A script of the lab, e.g. Lab("status").</summary>
    public static Task<RunResult> Lab(string script, TimeSpan timeout, params string[] arguments) =>
        Async(Path.Combine(LabState.RepoRoot, "lab", script), arguments, timeout);

    /// <summary>virsh against one host's libvirtd.</summary>
    public static Task<RunResult> Virsh(LabHost host, params string[] arguments) =>
        Async("virsh", ["-q", "-c", host.LibvirtUri, .. arguments], TimeSpan.FromSeconds(30));
}
