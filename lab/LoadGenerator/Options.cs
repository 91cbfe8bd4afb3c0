using System.Globalization;

namespace Loadshift.Lab.LoadGenerator;

/// <summary>What to load, how hard and for how long; parsed from the command line of lab/load.</summary>
internal sealed record Options(
    IReadOnlyList<string> Vms,
    string Path,
    double RatePerVm,
    TimeSpan Duration,
    TimeSpan Timeout,
    int MaxInFlightPerVm,
    TimeSpan Slow,
    bool Json,
    string StateFile)
{
    // Bounds that keep a mistyped command from turning the lab into a flood: the lab's VMs answer a few hundred
    // static pages a second at most, and no measurement here needs more than a few minutes.
    public const double MaxRatePerVm = 500;
    public static readonly TimeSpan MaxDuration = TimeSpan.FromMinutes(10);
    public const int MaxInFlightLimit = 256;

    public const string Usage = """
        usage: lab/load [--vm vm1,vm2 | --all] [--rate N] [--duration 30s] [--static | --path /cgi-bin/burn]
                        [--timeout 5s] [--slow 500ms] [--max-in-flight 32] [--json] [--state lab/.state/lab.json]
          --vm NAMES         VMs of the lab to load (names from lab.json), comma separated; --all for every VM
          --rate N           requests per second sent to each VM (open loop: sent on schedule, not after answers)
          --duration T       how long to send (30s, 2m, 500ms or seconds); at most 10m
          --path P           the path requested (default /cgi-bin/burn, the CPU-burning CGI); --static for /
          --timeout T        a request not answered within T counts as failed (default 5s)
          --slow T           a successful request that took longer than T is counted as slow (default 500ms)
          --max-in-flight N  requests open at once per VM; a request due while N are open is skipped and counted
          --json             print the result as JSON instead of a table
        """;

    public static Options Parse(IReadOnlyList<string> args)
    {
        var vms = new List<string>();
        var all = false;
        var path = "/cgi-bin/burn";
        var rate = 5.0;
        var duration = TimeSpan.FromSeconds(30);
        var timeout = TimeSpan.FromSeconds(5);
        var maxInFlight = 32;
        var slow = TimeSpan.FromMilliseconds(500);
        var json = false;
        string? state = null;

        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new UsageException($"{arg} needs a value");
            switch (arg)
            {
                case "--vm":
                    vms.AddRange(Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                    break;
                case "--all":
                    all = true;
                    break;
                case "--rate":
                    rate = ParseDouble(arg, Value());
                    break;
                case "--duration":
                    duration = ParseDuration(arg, Value());
                    break;
                case "--timeout":
                    timeout = ParseDuration(arg, Value());
                    break;
                case "--slow":
                    slow = ParseDuration(arg, Value());
                    break;
                case "--path":
                    path = Value();
                    break;
                case "--static":
                    path = "/";
                    break;
                case "--max-in-flight":
                    maxInFlight = (int)ParseDouble(arg, Value());
                    break;
                case "--json":
                    json = true;
                    break;
                case "--state":
                    state = Value();
                    break;
                case "-h" or "--help":
                    throw new UsageException(null);
                default:
                    throw new UsageException($"unknown argument '{arg}'");
            }
        }

        if (all == (vms.Count > 0))
        {
            throw new UsageException("name the VMs with --vm, or --all (one of the two)");
        }
        if (rate <= 0 || rate > MaxRatePerVm)
        {
            throw new UsageException($"--rate must be above 0 and at most {MaxRatePerVm} per VM");
        }
        if (duration <= TimeSpan.Zero || duration > MaxDuration)
        {
            throw new UsageException($"--duration must be above 0 and at most {MaxDuration.TotalMinutes} minutes");
        }
        if (timeout <= TimeSpan.Zero || timeout > TimeSpan.FromMinutes(1))
        {
            throw new UsageException("--timeout must be above 0 and at most 1 minute");
        }
        if (maxInFlight < 1 || maxInFlight > MaxInFlightLimit)
        {
            throw new UsageException($"--max-in-flight must be 1 to {MaxInFlightLimit}");
        }
        if (!path.StartsWith('/') || path.Contains("//", StringComparison.Ordinal) || path.Any(char.IsWhiteSpace))
        {
            throw new UsageException($"--path must be an absolute path, got '{path}'");
        }

        return new Options(all ? [] : vms.Distinct(StringComparer.Ordinal).ToList(), path, rate, duration, timeout,
            maxInFlight, slow, json, state ?? DefaultStateFile());
    }

    /// <summary>30s, 2m, 500ms, 1h or plain seconds.</summary>
    public static TimeSpan ParseDuration(string name, string text)
    {
        (string number, double scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.Ordinal) => (text[..^2], 0.001),
            _ when text.EndsWith('s') => (text[..^1], 1),
            _ when text.EndsWith('m') => (text[..^1], 60),
            _ when text.EndsWith('h') => (text[..^1], 3600),
            _ => (text, 1),
        };
        return TimeSpan.FromSeconds(ParseDouble(name, number) * scale);
    }

    private static double ParseDouble(string name, string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
            ? value
            : throw new UsageException($"{name}: '{text}' is not a number");

    // lab/.state/lab.json of the repository this program was built in or runs from.
    private static string DefaultStateFile()
    {
        try
        {
            return LabState.FileIn(RepositoryRoot.Path);
        }
        catch (InvalidOperationException)
        {
            return System.IO.Path.Combine("lab", ".state", "lab.json");
        }
    }
}

/// <summary>A bad command line; <see cref="Problem"/> is null when the user asked for help.</summary>
internal sealed class UsageException(string? problem) : Exception(problem ?? "usage")
{
    public string? Problem { get; } = problem;
}
