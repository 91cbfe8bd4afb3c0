using System.Diagnostics;

namespace Loadshift.Testing;

/// <summary>What a finished process left: its exit code and both streams.</summary>
public sealed record ToolResult(string CommandLine, int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() =>
        $"$ {CommandLine}\nexit code {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>
/// Runs the real tools (promtool, shellcheck, mpstat, virsh, grafana/render-png, prometheus/render) with an argument
/// list, never through a shell. A tool that is not installed fails the test with the Debian package that provides it.
/// </summary>
public static class Tool
{
    private static readonly Dictionary<string, string> DebianPackages = new(StringComparer.Ordinal)
    {
        ["promtool"] = "prometheus",
        ["prometheus"] = "prometheus",
        ["amtool"] = "prometheus-alertmanager",
        ["prometheus-alertmanager"] = "prometheus-alertmanager",
        ["shellcheck"] = "shellcheck",
        ["prometheus-blackbox-exporter"] = "prometheus-blackbox-exporter",
        ["gnuplot"] = "gnuplot-nox",
        ["jq"] = "jq",
        ["curl"] = "curl",
        ["bash"] = "bash",
        ["mpstat"] = "sysstat",
        ["free"] = "procps",
        ["virsh"] = "libvirt-clients",
        ["dotnet"] = "dotnet-sdk-10.0",
    };

    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The absolute path of a program on PATH, or a failure naming the package to install.</summary>
    public static string Find(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin";
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        var package = DebianPackages.GetValueOrDefault(name, name);
        throw new InvalidOperationException(
            $"'{name}' is not installed (not found on PATH). Install the Debian package: apt-get install {package}");
    }

    /// <summary>Runs a program found on PATH (or given by path) and waits for it.</summary>
    public static ToolResult Run(string program, IEnumerable<string> arguments, string? workingDirectory = null, TimeSpan? timeout = null, string? stdin = null) =>
        RunAsync(program, arguments, workingDirectory, timeout, stdin).GetAwaiter().GetResult();

    /// <summary>
    /// Runs a program found on PATH (or given by path); stdin, when given, is written to it and then closed.
    /// Past the timeout (for the program and the end of its output) the program and its children are killed and a
    /// TimeoutException names the command.
    /// </summary>
    public static async Task<ToolResult> RunAsync(string program, IEnumerable<string> arguments, string? workingDirectory = null, TimeSpan? timeout = null, string? stdin = null)
    {
        var fileName = program.Contains('/', StringComparison.Ordinal) ? program : Find(program);
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? RepositoryRoot.Path,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        var commandLine = string.Join(' ', startInfo.ArgumentList.Prepend(program));
        using var process = Process.Start(startInfo)
            ?? throw new InvalidOperationException($"Could not start {commandLine}");
        // Both streams are read before stdin is written: a program that answers while it reads must not block
        // on a full pipe while we block on its input.
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout ?? DefaultTimeout);
        try
        {
            if (stdin is not null)
            {
                await WriteStdinAsync(process, stdin, deadline.Token).ConfigureAwait(false);
            }

            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            await Task.WhenAll(stdout, stderr).WaitAsync(deadline.Token).ConfigureAwait(false); // a child may hold them open
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{commandLine} did not finish within {timeout ?? DefaultTimeout}");
        }

        return new ToolResult(commandLine, process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }

    private static async Task WriteStdinAsync(Process process, string stdin, CancellationToken cancellationToken)
    {
        try
        {
            await process.StandardInput.WriteAsync(stdin.AsMemory(), cancellationToken).ConfigureAwait(false);
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The program exited without reading all of it (a broken pipe); its exit code and stderr say why.
        }
    }

    /// <summary>Runs a program and fails the test, showing what it printed, unless it exits 0.</summary>
    public static ToolResult RunOk(string program, IEnumerable<string> arguments, string? workingDirectory = null, TimeSpan? timeout = null, string? stdin = null)
    {
        var result = Run(program, arguments, workingDirectory, timeout, stdin);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }

    /// <summary>`promtool check metrics` on an exposition: the Prometheus project's own linter as judge, with no
    /// complaint at all (it prints lint findings but still exits 0 for some).</summary>
    public static async Task AssertPromtoolAcceptsMetricsAsync(string exposition)
    {
        var result = await RunAsync("promtool", ["check", "metrics"], stdin: exposition).ConfigureAwait(false);
        Assert.True(result.ExitCode == 0 && result.Stdout.Length + result.Stderr.Length == 0, result.ToString());
    }
}
