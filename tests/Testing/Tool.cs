using System.Diagnostics;
using System.Text;

namespace Loadshift.Testing;

/// <summary>What a finished process left: its exit code and both streams.</summary>
public sealed record ToolResult(string CommandLine, int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() =>
        $"$ {CommandLine}\nexit code {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>
/// Runs the real tools (promtool, shellcheck, grafana/render-png, prometheus/render) with an argument list, never through a
/// shell. A tool that is not installed fails the test with the Debian package that provides it.
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
    public static ToolResult Run(string program, IEnumerable<string> arguments, string? workingDirectory = null, TimeSpan? timeout = null)
    {
        var fileName = program.Contains('/', StringComparison.Ordinal) ? program : Find(program);
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
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
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (stdout) { stdout.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (stderr) { stderr.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout ?? DefaultTimeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{commandLine} did not finish within {timeout ?? DefaultTimeout}");
        }

        // The parameterless overload waits for the asynchronous readers to reach the end of both streams.
        process.WaitForExit();
        lock (stdout)
        {
            lock (stderr)
            {
                return new ToolResult(commandLine, process.ExitCode, stdout.ToString(), stderr.ToString());
            }
        }
    }

    /// <summary>Runs a program and fails the test, showing what it printed, unless it exits 0.</summary>
    public static ToolResult RunOk(string program, IEnumerable<string> arguments, string? workingDirectory = null, TimeSpan? timeout = null)
    {
        var result = Run(program, arguments, workingDirectory, timeout);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }
}
