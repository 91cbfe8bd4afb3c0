namespace Loadshift.Rebalancer.Execution;

/// <summary>A command that failed: its command line, exit code (null when it never started) and stderr, and what
/// to do about it.</summary>
public sealed class CommandFailedException(string commandLine, int? exitCode, string stderr, string whatToDo, Exception? inner = null)
    : Exception($"'{commandLine}' {(exitCode is { } code ? $"exited with {code}" : "did not start")}: {Tail(stderr, 500)} {whatToDo}".TrimEnd(), inner)
{
    public string CommandLine { get; } = commandLine;

    public int? ExitCode { get; } = exitCode;

    public string Stderr { get; } = stderr;

    /// <summary>The end of a long stderr (virsh --verbose writes progress lines first, the error last).</summary>
    internal static string Tail(string text, int max) => text.Length <= max ? text.Trim() : "..." + text[^max..].Trim();
}
