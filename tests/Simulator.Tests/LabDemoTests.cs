using Loadshift.Simulator.Inputs;
using Loadshift.Simulator.Policies;
using Loadshift.Simulator.Simulation;

namespace Loadshift.Simulator.Tests;

/// <summary>The lab's seed scenario (three VMs on hv1, load that saturates it) through the Rebalancer's planner in
/// simulated time gives the moves the lab demo's run made, in its order (Fixtures/lab-demo-fast/README.md).</summary>
public sealed class LabDemoTests
{
    [Fact]
    public void The_demo_run_makes_the_same_moves_in_the_same_order()
    {
        // lab/demo --fast: the Rebalancer's command line and prometheus/render's flags (docs/demo.md, "Durations").
        var inventory = InventoryFile.Load(Repo.Path("src", "Rebalancer", "inventory.lab.yaml"),
        [
            new("policy:returnHomeAfter", "30s"), new("policy:cooldown", "30s"), new("policy:decisionWindow", "30s"),
            new("policy:checkInterval", "5s"),
        ]);
        var rule = AlertRule.Load(Repo.Path("prometheus"), "HypervisorCpuHigh") with
        {
            For = TimeSpan.FromSeconds(30),
            KeepFiringFor = TimeSpan.FromSeconds(30),
            EvaluationInterval = TimeSpan.FromSeconds(5),
        };
        var placement = Placement.Load(Repo.Fixture("lab-demo-fast", "placement.csv"), ["hv1", "hv2", "hv3"]);
        var scenario = Scenario.From(inventory, placement, rule, new MigrationModel(),
            index => TraceFile.Open(Repo.Fixture("lab-demo-fast", "trace.csv"), index));
        var loadshift = new LoadshiftPolicy(inventory.Policy, scenario.Start);

        var result = Simulation.Simulator.Run(scenario, [loadshift]).Single();

        var moves = result.Moves.Select(m => $"{scenario.Domains[m.Domain]} {Host(m.Source)} -> {Host(m.Target)} ({m.Kind})").ToList();
        Assert.Equal(
            [
                "vm1 hv1 -> hv2 (Relief)",
                "vm3 hv1 -> hv3 (Relief)",
                "vm3 hv3 -> hv1 (ReturnHome)",
                "vm1 hv2 -> hv1 (ReturnHome)",
            ],
            moves);
        // As in the run: the first relief after the alert's 30 s `for` (hv1's 1m ratio crosses 80% 48 s after the
        // load starts), the second after hv1 settled (75 s), both returns after the load stopped.
        var loadStart = 60.0;
        Assert.InRange(result.Moves[0].StartedAt - loadStart, 48 + 30, 48 + 30 + 10);
        Assert.InRange(result.Moves[1].StartedAt - result.Moves[0].EndsAt, 75, 75 + 10);
        Assert.True(result.Moves[2].StartedAt - loadStart > 219);
        Assert.Equal(0, result.HardRuleViolations);
        // The planner's own numbers, as the run's journal printed them: hv1 100% -> 67% (68% in the run), 94% -> 48%.
        var reliefs = loadshift.Decisions.Where(d => d.Decision.Migration is not null).Select(d => d.Decision.Migration!).ToList();
        Assert.Equal(1.0, reliefs[0].SourceBusyBefore, 2);
        Assert.Equal(0.67, reliefs[0].SourceBusyAfter, 2);
        Assert.Equal(0.94, reliefs[1].SourceBusyBefore, 2);
        Assert.Equal(0.48, reliefs[1].SourceBusyAfter, 2);

        string Host(int h) => scenario.Inventory.Hosts[h].Name;
    }
}
