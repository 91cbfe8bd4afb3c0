using Loadshift.Simulator.Inputs;
using Loadshift.Simulator.Output;
using Loadshift.Simulator.Policies;
using Loadshift.Simulator.Simulation;
using Loadshift.Simulator.Synthetic;

namespace Loadshift.Simulator.Tests;

/// <summary>Small generated traces with their results pinned (Fixtures/golden), the generator's determinism, and
/// the loadshift policy's shortcuts changing no move.</summary>
public sealed class GoldenTests
{
    private static readonly GeneratorOptions Small = new(Seed: 7, Hosts: 4, Domains: 60, Days: 1, StepSeconds: 60, Shape: Shape.Diurnal, Load: 0.55);

    private static Scenario FromFiles(string directory)
    {
        var inventory = InventoryFile.Load(Path.Combine(directory, "inventory.yaml"));
        var placement = Placement.Load(Path.Combine(directory, "placement.csv"), [.. inventory.Inventory.Hosts.Select(h => h.Name)]);
        var rule = AlertRule.Load(Repo.Path("prometheus"), "HypervisorCpuHigh");
        return Scenario.From(inventory, placement, rule, new MigrationModel(), index => TraceFile.Open(Path.Combine(directory, "trace.csv"), index));
    }

    private static List<IPolicy> All(Scenario s) =>
    [
        new LoadshiftPolicy(s.Policy, s.Start), new SeedPolicy(0.80, TimeSpan.FromMinutes(1)), new ProxLbPolicy(TimeSpan.FromHours(1), 0.10, 1),
        new DeschedulerPolicy(TimeSpan.FromMinutes(5), 0.50, 0.80, 1), new NonePolicy(),
    ];

    [Theory]
    [InlineData("diurnal-4x60")]
    [InlineData("bursty-4x60")]
    public void A_small_generated_trace_gives_its_golden_figures(string name)
    {
        var options = name.StartsWith("bursty", StringComparison.Ordinal) ? Small with { Shape = Shape.Bursty, Seed = 8 } : Small;
        var directory = Path.Combine(Path.GetTempPath(), $"loadshift-sim-{name}-{Guid.NewGuid():N}");
        try
        {
            new Generator(options).Write(directory);
            var scenario = FromFiles(directory);
            var json = Report.ToJson(Simulation.Simulator.Run(scenario, All(scenario)));
            var golden = Repo.Fixture("golden", $"{name}.json");
            if (Environment.GetEnvironmentVariable("LOADSHIFT_SIM_UPDATE_GOLDEN") == "1")
            {
                File.WriteAllText(Path.Combine(Repo.Root, "tests", "Simulator.Tests", "Fixtures", "golden", $"{name}.json"), json);
            }
            Assert.Equal(File.ReadAllText(golden).ReplaceLineEndings(), json.ReplaceLineEndings());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void The_generator_writes_the_same_files_for_the_same_seed_and_other_files_for_another()
    {
        string Write(GeneratorOptions o)
        {
            var directory = Path.Combine(Path.GetTempPath(), $"loadshift-sim-gen-{Guid.NewGuid():N}");
            new Generator(o).Write(directory);
            return directory;
        }
        var (a, b, c) = (Write(Small), Write(Small), Write(Small with { Seed = 9 }));
        try
        {
            foreach (var file in new[] { "inventory.yaml", "placement.csv", "trace.csv" })
            {
                Assert.Equal(File.ReadAllText(Path.Combine(a, file)), File.ReadAllText(Path.Combine(b, file)));
            }
            Assert.NotEqual(File.ReadAllText(Path.Combine(a, "trace.csv")), File.ReadAllText(Path.Combine(c, "trace.csv")));
            // Hosts of different sizes, as asked.
            Assert.True(new Generator(Small with { Hosts = 20 }).Hosts.Select(h => h.CpuCapacity).Distinct().Count() > 1);
        }
        finally
        {
            foreach (var d in new[] { a, b, c })
            {
                Directory.Delete(d, recursive: true);
            }
        }
    }

    [Fact]
    public void The_in_process_trace_is_the_trace_the_generator_writes()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"loadshift-sim-same-{Guid.NewGuid():N}");
        try
        {
            var generator = new Generator(Small);
            generator.Write(directory);
            var fromFiles = FromFiles(directory);
            var inProcess = Scenario.From(InventoryFile.Parse(new StringReader(generator.InventoryYaml()), "generated"), generator.Placement,
                fromFiles.Alert, new MigrationModel(), _ => generator.OpenTrace());
            Assert.Equal(Report.ToJson(Simulation.Simulator.Run(fromFiles, All(fromFiles))), Report.ToJson(Simulation.Simulator.Run(inProcess, All(inProcess))));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Loadshift_skipping_calls_known_to_answer_no_action_makes_the_same_moves(int maxInFlight)
    {
        var generator = new Generator(Small with { Domains = 80, Load = 0.6 });
        var inventory = InventoryFile.Parse(new StringReader(generator.InventoryYaml()), "generated",
            [new("policy:maxMigrationsInFlight", maxInFlight.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
        var scenario = Scenario.From(inventory, generator.Placement,
            AlertRule.Load(Repo.Path("prometheus"), "HypervisorCpuHigh"), new MigrationModel(), _ => generator.OpenTrace());
        var results = Simulation.Simulator.Run(scenario, [new LoadshiftPolicy(scenario.Policy, scenario.Start), new LoadshiftPolicy(scenario.Policy, scenario.Start, everyCall: true)]);
        Assert.NotEmpty(results[0].Moves);
        Assert.Equal(results[1].Moves, results[0].Moves);
    }
}
