using Loadshift.Simulator.Inputs;
using Loadshift.Simulator.Simulation;

namespace Loadshift.Simulator.Tests;

/// <summary>Paths in the repository and small scenarios built in memory.</summary>
internal static class Repo
{
    public static string Root => Loadshift.Lab.RepositoryRoot.Path;

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    public static string Fixture(params string[] parts) => System.IO.Path.Combine([AppContext.BaseDirectory, "Fixtures", .. parts]);

    /// <summary>An alert evaluated every minute, so that one tick is one step of a 60 s trace.</summary>
    public static AlertRule MinuteRule(TimeSpan? @for = null, TimeSpan? keepFiringFor = null) =>
        new("HypervisorCpuHigh", 0.80, @for ?? TimeSpan.FromMinutes(2), keepFiringFor ?? TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));

    /// <summary>A scenario from inline YAML and per-step demand rows (one array per step, domains in placement order).</summary>
    public static Scenario Scenario(string inventoryYaml, (string Domain, string Host, long Memory)[] placement, double[][] steps,
        AlertRule? rule = null, int stepSeconds = 60)
    {
        var inventory = InventoryFile.Parse(new StringReader(inventoryYaml), "inline");
        var place = new Placement([.. placement.Select(p => p.Domain)], [.. placement.Select(p => p.Host)], [.. placement.Select(p => p.Memory)]);
        return Simulation.Scenario.From(inventory, place, rule ?? MinuteRule(), new MigrationModel(3, 1e9), _ => new ListTrace(steps, stepSeconds));
    }
}

/// <summary>A trace held in memory.</summary>
internal sealed class ListTrace(double[][] steps, int stepSeconds) : ITrace
{
    private int step;

    public double Progress => (double)step / steps.Length;

    public bool ReadStep(double[] cpuCores, long[] memoryBytes, out long seconds)
    {
        seconds = (long)step * stepSeconds;
        if (step >= steps.Length)
        {
            return false;
        }
        steps[step].CopyTo(cpuCores, 0);
        step++;
        return true;
    }

    public void Dispose()
    {
    }
}
