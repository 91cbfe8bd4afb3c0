using System.Globalization;

namespace Loadshift.Lab.Demo;

/// <summary><c>loadshift-demo run</c>'s options; lab/demo passes them all (it knows the ports and the durations it
/// configured Prometheus and the Rebalancer with).</summary>
internal sealed record RunOptions
{
    public required string StateFile { get; init; }
    public required string RepoRoot { get; init; }
    public required Uri Prometheus { get; init; }
    public required Uri Rebalancer { get; init; }
    public required string TokenFile { get; init; }
    public required string OutDir { get; init; }
    public bool Fast { get; init; }
    public double RatePerVm { get; init; } = 2;
    public double HighWatermark { get; init; } = 0.80;
    public TimeSpan CpuHighFor { get; init; } = TimeSpan.FromMinutes(2);
    public TimeSpan ReturnHomeAfter { get; init; } = TimeSpan.FromMinutes(3);
    public TimeSpan AfterWindow { get; init; } = TimeSpan.FromSeconds(60);
    public string LoadedHost { get; init; } = "hv1";
    public int ProbeIntervalMs { get; init; } = 100;

    public const string Usage =
        "usage: loadshift-demo run --state lab.json --repo DIR --prometheus URL --rebalancer URL --token-file FILE --out DIR\n" +
        "                          [--fast] [--rate N] [--high 0.80] [--cpu-high-for SECONDS] [--return-home-after SECONDS]\n" +
        "                          [--after-window SECONDS] [--host hv1] [--probe-interval-ms 100]\n" +
        "       loadshift-demo probe --state lab.json --out probes.jsonl\n" +
        "(lab/demo runs both; run lab/demo, not this program)";

    public static RunOptions Parse(IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var fast = false;
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] == "--fast")
            {
                fast = true;
                continue;
            }
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Count)
            {
                throw new ArgumentException($"bad argument '{args[i]}'");
            }
            values[args[i][2..]] = args[++i];
        }
        string Required(string key) => values.TryGetValue(key, out var v) ? v : throw new ArgumentException($"--{key} is required");
        double Number(string key, double fallback) =>
            values.TryGetValue(key, out var v) ? double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture) : fallback;
        var known = new[] { "state", "repo", "prometheus", "rebalancer", "token-file", "out", "rate", "high", "cpu-high-for",
            "return-home-after", "after-window", "host", "probe-interval-ms" };
        foreach (var key in values.Keys.Where(k => !known.Contains(k)))
        {
            throw new ArgumentException($"unknown option --{key}");
        }
        return new RunOptions
        {
            StateFile = Required("state"),
            RepoRoot = Required("repo"),
            Prometheus = new Uri(Required("prometheus").TrimEnd('/') + "/"),
            Rebalancer = new Uri(Required("rebalancer").TrimEnd('/') + "/"),
            TokenFile = Required("token-file"),
            OutDir = Required("out"),
            Fast = fast,
            RatePerVm = Number("rate", 2),
            HighWatermark = Number("high", 0.80),
            CpuHighFor = TimeSpan.FromSeconds(Number("cpu-high-for", fast ? 30 : 120)),
            ReturnHomeAfter = TimeSpan.FromSeconds(Number("return-home-after", fast ? 30 : 180)),
            AfterWindow = TimeSpan.FromSeconds(Number("after-window", fast ? 30 : 60)),
            LoadedHost = values.GetValueOrDefault("host", "hv1"),
            ProbeIntervalMs = (int)Number("probe-interval-ms", 100),
        };
    }
}
