using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Loadshift.Rebalancer.Inventory;
using Loadshift.Simulator.Inputs;
using Loadshift.Simulator.Output;
using Loadshift.Simulator.Policies;
using Loadshift.Simulator.Replay;
using Loadshift.Simulator.Simulation;
using Loadshift.Simulator.Synthetic;
using Spectre.Console;

namespace Loadshift.Simulator;

/// <summary>The command line: <c>loadshift-sim [run options]</c> and <c>loadshift-sim generate</c>.</summary>
internal static class Cli
{
    public static readonly string[] AllPolicies = ["loadshift", "seed", "proxlb", "descheduler", "none"];

    private static readonly Option<FileInfo?> Inventory = new("--inventory") { Description = "the Rebalancer's inventory (hosts, pinned, policy); libvirtUri may be left out" };
    private static readonly Option<FileInfo?> PlacementOption = new("--placement") { Description = "CSV domain,host[,memory_bytes]: where each domain runs at the start" };
    private static readonly Option<FileInfo?> Trace = new("--trace") { Description = "CSV seconds,domain,cpu_cores[,memory_bytes], sorted by seconds, regular steps" };
    private static readonly Option<string?> Synthetic = new("--synthetic") { Description = "generate the cluster and trace in the process instead of files: diurnal or bursty (the generate options apply)" };
    private static readonly Option<Uri?> Prometheus = new("--prometheus") { Description = "replay this Prometheus' history (with --from, --to and --inventory)" };
    private static readonly Option<DateTimeOffset?> From = new("--from") { Description = "replay start, RFC 3339" };
    private static readonly Option<DateTimeOffset?> To = new("--to") { Description = "replay end, RFC 3339" };
    private static readonly Option<string> ReplayStep = new("--replay-step") { Description = "range query step", DefaultValueFactory = _ => "1m" };
    private static readonly Option<DirectoryInfo?> PrometheusConfig = new("--prometheus-config") { Description = "the project's prometheus/ folder (HypervisorCpuHigh, the recording rule, evaluation_interval); default: found from the current folder up" };
    private static readonly Option<string?> CpuHighFor = new("--cpu-high-for") { Description = "override the alert's for, as prometheus/render does" };
    private static readonly Option<string?> CpuHighKeepFiringFor = new("--cpu-high-keep-firing-for") { Description = "override the alert's keep_firing_for" };
    private static readonly Option<string?> EvaluationInterval = new("--evaluation-interval") { Description = "override the rule evaluation interval (the simulator's tick)" };
    private static readonly Option<string[]> Set = new("--set") { Description = "override an inventory key, e.g. --set policy:cooldown=30s (repeatable)", AllowMultipleArgumentsPerToken = false };
    private static readonly Option<string> Policies = new("--policy") { Description = "comma list of loadshift, seed, proxlb, descheduler, none", DefaultValueFactory = _ => string.Join(',', AllPolicies) };
    private static readonly Option<FileInfo?> Json = new("--json") { Description = "write one object per policy" };
    private static readonly Option<FileInfo?> Png = new("--png") { Description = "write the chart: busiest host's busy ratio and migrations per policy" };
    private static readonly Option<FileInfo?> Markdown = new("--markdown") { Description = "write the table as markdown" };
    private static readonly Option<double> MigrationFixed = new("--migration-fixed-seconds") { Description = "fixed part of a migration's time", DefaultValueFactory = _ => new MigrationModel().FixedSeconds };
    private static readonly Option<double> MigrationBandwidth = new("--migration-bytes-per-second") { Description = "migration bandwidth", DefaultValueFactory = _ => new MigrationModel().BytesPerSecond };
    private static readonly Option<string> SeedInterval = new("--seed-interval") { Description = "how often the seed's script runs (its cron)", DefaultValueFactory = _ => "1m" };
    private static readonly Option<string> ProxLbInterval = new("--proxlb-interval") { Description = "ProxLB's schedule", DefaultValueFactory = _ => "1h" };
    private static readonly Option<double> ProxLbBalanciness = new("--proxlb-balanciness") { Description = "ProxLB's balanciness as a busy ratio spread", DefaultValueFactory = _ => 0.10 };
    private static readonly Option<string> DeschedulerInterval = new("--descheduler-interval") { Description = "the descheduler's descheduling interval", DefaultValueFactory = _ => "5m" };
    private static readonly Option<double?> DeschedulerLow = new("--descheduler-low") { Description = "LowNodeUtilization thresholds (default: the inventory's low watermark)" };
    private static readonly Option<double?> DeschedulerTarget = new("--descheduler-target") { Description = "LowNodeUtilization targetThresholds (default: the inventory's high watermark)" };

    private static readonly Option<int> Seed = new("--seed") { Description = "generator seed", DefaultValueFactory = _ => 1 };
    private static readonly Option<int> Hosts = new("--hosts") { Description = "generated hosts", DefaultValueFactory = _ => 20 };
    private static readonly Option<int> Domains = new("--domains") { Description = "generated domains", DefaultValueFactory = _ => 600 };
    private static readonly Option<double> Days = new("--days") { Description = "generated trace length", DefaultValueFactory = _ => 7 };
    private static readonly Option<int> Step = new("--step") { Description = "generated trace step in seconds", DefaultValueFactory = _ => 60 };
    private static readonly Option<double> Load = new("--load") { Description = "mean demand as a share of the cluster's capacity", DefaultValueFactory = _ => 0.5 };
    private static readonly Option<string> ShapeOption = new("--shape") { Description = "diurnal or bursty", DefaultValueFactory = _ => "diurnal" };
    private static readonly Option<DirectoryInfo> Out = new("--out") { Description = "folder for inventory.yaml, placement.csv, trace.csv", Required = true };

    public static RootCommand Build()
    {
        var root = new RootCommand("loadshift-sim: replays load through the Rebalancer's planner and other policies in simulated time (docs/simulation.md)");
        foreach (var option in new Option[] { Inventory, PlacementOption, Trace, Synthetic, Prometheus, From, To, ReplayStep, PrometheusConfig, CpuHighFor,
            CpuHighKeepFiringFor, EvaluationInterval, Set, Policies, Json, Png, Markdown, MigrationFixed, MigrationBandwidth, SeedInterval,
            ProxLbInterval, ProxLbBalanciness, DeschedulerInterval, DeschedulerLow, DeschedulerTarget, Seed, Hosts, Domains, Days, Step, Load, ShapeOption })
        {
            root.Add(option);
        }
        root.SetAction(parse => Guard(() => RunCommand(parse)));
        var generate = new Command("generate", "write a synthetic cluster and trace (deterministic with --seed)");
        foreach (var option in new Option[] { Seed, Hosts, Domains, Days, Step, Load, ShapeOption, Out })
        {
            generate.Add(option);
        }
        generate.SetAction(parse => Guard(() => GenerateCommand(parse)));
        root.Add(generate);
        return root;
    }

    private static int Guard(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (InputException e)
        {
            Console.Error.WriteLine($"loadshift-sim: {e.Message}");
            return 1;
        }
    }

    private static GeneratorOptions GeneratorOptions(ParseResult parse, string shape) => new(
        parse.GetValue(Seed), parse.GetValue(Hosts), parse.GetValue(Domains), parse.GetValue(Days), parse.GetValue(Step),
        ParseShape(shape), parse.GetValue(Load));

    private static Shape ParseShape(string text) => Enum.TryParse<Shape>(text, ignoreCase: true, out var shape)
        ? shape
        : throw new InputException($"--shape: '{text}' is not diurnal or bursty");

    private static int GenerateCommand(ParseResult parse)
    {
        var options = GeneratorOptions(parse, parse.GetValue(ShapeOption)!);
        var generator = new Generator(options);
        var directory = parse.GetValue(Out)!.FullName;
        WithProgress("generating", progress => generator.Write(directory, progress));
        Console.WriteLine($"wrote {Path.Combine(directory, "inventory.yaml")}, placement.csv and trace.csv: {options.Hosts} hosts, {options.Domains} domains, {options.Days} days at {options.StepSeconds} s");
        return 0;
    }

    private static int RunCommand(ParseResult parse)
    {
        var clock = Stopwatch.StartNew();
        var scenario = LoadScenario(parse, out var label);
        var policies = MakePolicies(parse, scenario);
        IReadOnlyList<PolicyResult> results = [];
        WithProgress("simulating", progress => results = Simulation.Simulator.Run(scenario, policies, progress));
        clock.Stop();
        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Profile.Width = 160;
        }
        AnsiConsole.Write(Report.Table(results));
        foreach (var (policy, result) in policies.Zip(results))
        {
            Console.WriteLine($"  {policy.Name}: {policy.Description}");
            Console.WriteLine($"  {policy.Name}: moves by kind: {string.Join(", ", result.Moves.GroupBy(m => m.Kind).Select(g => $"{g.Key} {g.Count()}"))}; " +
                $"not helped: {string.Join(", ", result.NotHelpedBreakdown.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value}"))}");
            if (policy is LoadshiftPolicy loadshift)
            {
                Console.WriteLine($"  loadshift: planner asked {loadshift.ReliefCalls} time(s) for relief, {loadshift.ReturnCalls} for a return home, {loadshift.Decisions.Count(d => d.Decision.Migration is not null)} move(s)");
                Console.WriteLine($"  loadshift: decisions by kind and reason: {string.Join(", ", loadshift.Decisions.GroupBy(d => $"{d.Decision.Kind} {d.Decision.Reason}").OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count()}"))}");
                var reliefs = loadshift.Decisions.Where(d => d.Decision.Kind == Rebalancer.Planning.DecisionKind.Relief && d.Decision.Migration is not null)
                    .Select(d => d.Decision.Migration!).ToList();
                if (reliefs.Count > 0)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  loadshift: reliefs' predictions, median (p10-p90): source after {Quantiles(reliefs.Select(p => p.SourceBusyAfter))}, target after {Quantiles(reliefs.Select(p => p.TargetBusyAfter))}"));
                }
            }
        }
        using var process = Process.GetCurrentProcess();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{label}: {scenario.Inventory.Hosts.Count} hosts, {scenario.Domains.Count} domains, tick {scenario.Tick.TotalSeconds:0} s; {clock.Elapsed.TotalSeconds:0.0} s, peak working set {process.PeakWorkingSet64 / (1 << 20)} MiB, allocated {GC.GetTotalAllocatedBytes() / (1 << 20)} MiB"));
        if (parse.GetValue(Json) is { } json)
        {
            File.WriteAllText(json.FullName, Report.ToJson(results));
        }
        if (parse.GetValue(Markdown) is { } markdown)
        {
            File.WriteAllText(markdown.FullName, Report.Markdown(results));
        }
        if (parse.GetValue(Png) is { } png)
        {
            Chart.Save(results, scenario.Policy.HighWatermark, png.FullName, label);
        }
        return 0;
    }

    private static string Quantiles(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        double At(double q) => sorted[(int)Math.Min(sorted.Count - 1, Math.Floor(q * sorted.Count))];
        return string.Create(CultureInfo.InvariantCulture, $"{At(0.5):0.000} ({At(0.1):0.000}-{At(0.9):0.000})");
    }

    private static void WithProgress(string what, Action<IProgress<double>?> work)
    {
        if (Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            work(null);
            return;
        }
        AnsiConsole.Progress().AutoClear(true).Start(context =>
        {
            var task = context.AddTask(what, maxValue: 1);
            work(new Progress<double>(value => task.Value = value));
        });
    }

    internal static Scenario LoadScenario(ParseResult parse, out string label)
    {
        var overrides = (parse.GetValue(Set) ?? []).Select(ParseOverride).ToList();
        var rule = LoadRule(parse);
        var migration = new MigrationModel(parse.GetValue(MigrationFixed), parse.GetValue(MigrationBandwidth));
        if (parse.GetValue(Synthetic) is { } shape)
        {
            var generator = new Generator(GeneratorOptions(parse, shape));
            var yaml = generator.InventoryYaml();
            var inventory = InventoryFile.Parse(new StringReader(yaml), "generated inventory", overrides);
            label = $"{shape} trace, seed {generator.Options.Seed}";
            return Scenario.From(inventory, generator.Placement, rule, migration, _ => generator.OpenTrace());
        }
        var inventoryFile = parse.GetValue(Inventory) ?? throw new InputException("--inventory is required (or --synthetic)");
        var loaded = InventoryFile.Load(inventoryFile.FullName, overrides);
        if (parse.GetValue(Prometheus) is { } url)
        {
            var from = parse.GetValue(From) ?? throw new InputException("--prometheus needs --from");
            var to = parse.GetValue(To) ?? throw new InputException("--prometheus needs --to");
            var step = Duration(parse.GetValue(ReplayStep)!, "--replay-step");
            var history = PrometheusHistory.ReadAsync(url, loaded.Inventory, from, to, step, CancellationToken.None).GetAwaiter().GetResult();
            label = $"replay of {url} {from:u} - {to:u}";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"recorded: {history.Domains.Count} domains; {AlertRule.BusyRecord} over {loaded.Policy.HighWatermark:0.00} in {history.RecordedOverloadTimeFraction(loaded.Policy.HighWatermark):0.00%} of host-steps (the simulated 'none' replays the same demand without the moves that happened)"));
            return history.ToScenario(loaded, rule, migration);
        }
        var placementFile = parse.GetValue(PlacementOption) ?? throw new InputException("--placement is required with --trace");
        var traceFile = parse.GetValue(Trace) ?? throw new InputException("--trace is required (or --synthetic, or --prometheus)");
        var placement = Placement.Load(placementFile.FullName, [.. loaded.Inventory.Hosts.Select(h => h.Name)]);
        label = Path.GetFileName(traceFile.FullName);
        return Scenario.From(loaded, placement, rule, migration, index => TraceFile.Open(traceFile.FullName, index));
    }

    private static KeyValuePair<string, string?> ParseOverride(string text)
    {
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        return equals > 0 && text[..equals].Contains(':', StringComparison.Ordinal)
            ? new(text[..equals], text[(equals + 1)..])
            : throw new InputException($"--set: '{text}' is not SECTION:KEY=VALUE (e.g. policy:cooldown=30s)");
    }

    private static AlertRule LoadRule(ParseResult parse)
    {
        var directory = parse.GetValue(PrometheusConfig)?.FullName ?? FindPrometheusConfig()
            ?? throw new InputException("--prometheus-config: no prometheus/ folder found from the current folder up; give the project's prometheus/ folder");
        var rule = AlertRule.Load(directory, new PolicyOptions().AlertName);
        if (parse.GetValue(CpuHighFor) is { } f)
        {
            rule = rule with { For = Duration(f, "--cpu-high-for") };
        }
        if (parse.GetValue(CpuHighKeepFiringFor) is { } k)
        {
            rule = rule with { KeepFiringFor = Duration(k, "--cpu-high-keep-firing-for") };
        }
        if (parse.GetValue(EvaluationInterval) is { } e)
        {
            rule = rule with { EvaluationInterval = Duration(e, "--evaluation-interval") };
        }
        return rule;
    }

    internal static string? FindPrometheusConfig()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                var candidate = Path.Combine(directory.FullName, "prometheus", "rules");
                if (Directory.Exists(candidate))
                {
                    return Path.Combine(directory.FullName, "prometheus");
                }
            }
        }
        return null;
    }

    private static TimeSpan Duration(string text, string option) =>
        DurationConverter.TryParse(text, out var value) && value > TimeSpan.Zero
            ? value
            : throw new InputException($"{option}: '{text}' is not a duration such as 30s or 5m");

    private static List<IPolicy> MakePolicies(ParseResult parse, Scenario scenario)
    {
        var names = parse.GetValue(Policies)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var policy = scenario.Policy;
        return [.. names.Select<string, IPolicy>(name => name switch
        {
            "loadshift" => new LoadshiftPolicy(policy, scenario.Start),
            "seed" => new SeedPolicy(policy.HighWatermark, Duration(parse.GetValue(SeedInterval)!, "--seed-interval")),
            "proxlb" => new ProxLbPolicy(Duration(parse.GetValue(ProxLbInterval)!, "--proxlb-interval"), parse.GetValue(ProxLbBalanciness), policy.MaxMigrationsInFlight),
            "descheduler" => new DeschedulerPolicy(Duration(parse.GetValue(DeschedulerInterval)!, "--descheduler-interval"),
                parse.GetValue(DeschedulerLow) ?? policy.LowWatermark, parse.GetValue(DeschedulerTarget) ?? policy.HighWatermark, policy.MaxMigrationsInFlight),
            "none" => new NonePolicy(),
            _ => throw new InputException($"--policy: '{name}' is not one of {string.Join(", ", AllPolicies)}"),
        })];
    }
}
