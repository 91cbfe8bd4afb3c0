using System.Globalization;
using System.Text;
using CliWrap;

namespace Loadshift.Testing;

/// <summary>What a finished process left: its exit code, both streams, and both interleaved line by line as they came
/// (<see cref="Output"/>, for logs and failure messages).</summary>
public sealed record ToolResult(string CommandLine, int ExitCode, string Stdout, string Stderr, string Output)
{
    public override string ToString() =>
        $"$ {CommandLine}\nexit code {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>
/// Runs the real tools (promtool, shellcheck, mpstat, virsh, the lab's and the render scripts) through CliWrap: an
/// argument list, never a shell string; stdin empty unless given; both streams captured; the deadline through
/// cancellation. A tool that is not installed fails the test with the Debian package that provides it.
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
        ["git"] = "git",
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

    /// <summary>A program given by path as it is, one given by name found on PATH.</summary>
    public static string Resolve(string program) => program.Contains('/', StringComparison.Ordinal) ? program : Find(program);

    /// <summary>Runs a program found on PATH (or given by path) and waits for it.</summary>
    public static ToolResult Run(string program, IEnumerable<string> arguments, string? workingDirectory = null, TimeSpan? timeout = null, string? stdin = null) =>
        RunAsync(program, arguments, workingDirectory, timeout, stdin).GetAwaiter().GetResult();

    /// <summary>
    /// Runs a program found on PATH (or given by path) in <paramref name="workingDirectory"/> (the checkout when not
    /// given); stdin, when given, is written to it and then closed. Past the timeout (for the program and the end of
    /// its output: a child may hold the streams open) the program and its children are killed and a TimeoutException
    /// names the command and shows the end of its output. With <paramref name="grace"/>, the program is first asked
    /// to stop (SIGTERM, what the lab's scripts and programs stop on) and killed only if it still runs that much later.
    /// </summary>
    public static async Task<ToolResult> RunAsync(string program, IEnumerable<string> arguments, string? workingDirectory = null,
        TimeSpan? timeout = null, string? stdin = null, TimeSpan? grace = null)
    {
        var argumentList = arguments.ToList();
        var commandLine = string.Join(' ', argumentList.Prepend(program));
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var output = new StringBuilder();
        var command = Cli.Wrap(Resolve(program))
            .WithArguments(argumentList)
            .WithWorkingDirectory(workingDirectory ?? RepositoryRoot.Path)
            .WithValidation(CommandResultValidation.None)
            .WithStandardInputPipe(stdin is null ? PipeSource.Null : PipeSource.FromString(stdin))
            .WithStandardOutputPipe(PipeTarget.Merge(PipeTarget.ToStringBuilder(stdout), Lines(output)))
            .WithStandardErrorPipe(PipeTarget.Merge(PipeTarget.ToStringBuilder(stderr), Lines(output)));

        var limit = timeout ?? DefaultTimeout;
        using var kill = new CancellationTokenSource(limit + (grace ?? TimeSpan.Zero));
        using var execution = command.ExecuteAsync(kill.Token);
        // CliWrap's own graceful cancellation sends SIGINT, which a shell script's background jobs ignore and a
        // process started with SIGINT ignored cannot trap: SIGTERM through kill(1) instead.
        using var stop = new CancellationTokenSource();
        using var terminate = grace is null
            ? default
            : stop.Token.Register(() => Run("kill", ["-TERM", execution.ProcessId.ToString(CultureInfo.InvariantCulture)]));
        if (grace is not null)
        {
            stop.CancelAfter(limit);
        }

        try
        {
            var result = await execution.ConfigureAwait(false);
            if (stop.IsCancellationRequested)
            {
                throw new OperationCanceledException(stop.Token);
            }

            return new ToolResult(commandLine, result.ExitCode, stdout.ToString(), stderr.ToString(), Text(output));
        }
        catch (OperationCanceledException e)
        {
            var tail = Text(output);
            throw new TimeoutException(
                $"{commandLine} did not finish within {limit}{(grace is null ? "" : $" (sent SIGTERM, then given {grace})")}; its last output:\n" +
                (tail.Length <= 6000 ? tail : tail[^6000..]), e);
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

    /// <summary>Both streams into one text, a line at a time as each comes.</summary>
    internal static PipeTarget Lines(StringBuilder output) =>
        PipeTarget.ToDelegate(line =>
        {
            lock (output)
            {
                output.AppendLine(line);
            }
        });

    internal static string Text(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }
}
