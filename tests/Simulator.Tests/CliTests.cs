using System.Text.Json;
using Loadshift.Simulator.Synthetic;

namespace Loadshift.Simulator.Tests;

/// <summary>The command line end to end on generated files: the JSON has one object per asked policy with the
/// issue's keys; a bad policy name or a missing file is bad input (exit 1), an unknown option a bad command line (2).</summary>
public sealed class CliTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), $"loadshift-sim-cli-{Guid.NewGuid():N}");

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private static int Run(params string[] args) => Cli.Build().Parse(args).Invoke();

    [Fact]
    public void A_run_on_generated_files_writes_one_json_object_per_policy()
    {
        new Generator(new GeneratorOptions(Seed: 3, Hosts: 3, Domains: 20, Days: 0.25)).Write(directory);
        var json = Path.Combine(directory, "out.json");
        var png = Path.Combine(directory, "out.png");
        var exit = Run("--inventory", Path.Combine(directory, "inventory.yaml"), "--placement", Path.Combine(directory, "placement.csv"),
            "--trace", Path.Combine(directory, "trace.csv"), "--prometheus-config", Repo.Path("prometheus"), "--policy", "loadshift,none",
            "--json", json, "--png", png);
        Assert.Equal(0, exit);
        using var document = JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal(["loadshift", "none"], document.RootElement.EnumerateArray().Select(p => p.GetProperty("policy").GetString()));
        Assert.Equal(
            ["policy", "overload_time_fraction", "unserved_core_seconds", "migrations", "migrated_bytes", "moves_undone", "hard_rule_violations", "moves_not_helped"],
            document.RootElement[0].EnumerateObject().Select(p => p.Name));
        // A PNG: its signature, and more than an empty canvas.
        var bytes = File.ReadAllBytes(png);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes.Take(4));
        Assert.True(bytes.Length > 20_000);
    }

    [Fact]
    public void Bad_input_exits_1_and_a_bad_command_line_2()
    {
        Directory.CreateDirectory(directory);
        Assert.Equal(1, Run("--synthetic", "diurnal", "--days", "0.01", "--policy", "loadshift,drs", "--prometheus-config", Repo.Path("prometheus")));
        Assert.Equal(1, Run("--inventory", Path.Combine(directory, "missing.yaml"), "--prometheus-config", Repo.Path("prometheus")));
        var parse = Cli.Build().Parse(["--no-such-option"]);
        Assert.NotEmpty(parse.Errors);
    }
}
