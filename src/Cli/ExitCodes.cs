namespace Loadshift.Cli;

/// <summary>loadshift's exit codes (README, "The loadshift command"); scripts test them, so they never change meaning.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The Rebalancer refused the request as malformed (400) or failed (5xx): its message is printed.</summary>
    public const int Failed = 1;

    /// <summary>The command line is wrong (unknown verb or option, missing argument).</summary>
    public const int Usage = 2;

    /// <summary>No token found, or the Rebalancer refused it (401).</summary>
    public const int Token = 3;

    /// <summary>The Rebalancer cannot be reached (connection refused, no answer in --timeout, bad --url).</summary>
    public const int Unreachable = 4;

    /// <summary>Unknown host, domain or decision (404).</summary>
    public const int NotFound = 5;

    /// <summary>Not possible now (409): a recommendation no longer pending, a move no longer possible, a host in
    /// maintenance by the inventory.</summary>
    public const int Conflict = 6;
}

/// <summary>An error for the operator: printed as "loadshift: MESSAGE" on stderr, exit code as given.</summary>
internal sealed class CliException(int exitCode, string message, Exception? inner = null) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;
}
