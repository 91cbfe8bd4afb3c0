using Loadshift.Rebalancer.Planning;

namespace Loadshift.Rebalancer.Tests.Planning;

/// <summary>The pass's gates, in the planner since RebalanceWorker and the simulator share them: drains first, one
/// relief per host per policy.decisionWindow, a host settling from a migration gets a settling no-action (once per
/// window) and nothing else.</summary>
public sealed class PassTests
{
    private static readonly Dictionary<(DecisionKind, string), LastDecision> NoDecisions = [];

    [Fact]
    public void Drains_come_first_and_their_move_is_in_flight_for_the_relief()
    {
        var input = new Fixture().Host("hv1", 0.93).Host("hv2", 0.04).Host("hv3", 0.05, maintenance: true)
            .Domain("vm1", "hv1", 0.30).Domain("vm2", "hv1", 0.29).Domain("vm9", "hv3", 0.02).Input();

        var decisions = Planner.PlanPass(new PassInput(input, ["hv3"], ["hv1"], NoDecisions));

        Assert.Equal([(DecisionKind.Drain, Reasons.Drain), (DecisionKind.Relief, Reasons.InFlightLimit)],
            decisions.Select(d => (d.Kind, d.Reason)));
    }

    [Fact]
    public void A_dry_run_move_is_not_in_flight_for_the_next()
    {
        var input = new Fixture().Host("hv1", 0.93).Host("hv2", 0.04).Host("hv3", 0.05, maintenance: true)
            .Domain("vm1", "hv1", 0.30).Domain("vm2", "hv1", 0.29).Domain("vm9", "hv3", 0.02).Input();

        var decisions = Planner.PlanPass(new PassInput(input, ["hv3"], ["hv1"], NoDecisions, DryRun: true));

        Assert.Equal([Reasons.Drain, Reasons.Overloaded], decisions.Select(d => d.Reason));
    }

    [Fact]
    public void A_host_settling_from_a_migration_gets_one_settling_decision_per_window_and_no_relief()
    {
        var fixture = Fixture.Seed();
        var input = fixture.Input();
        input = input with { Hosts = [.. input.Hosts.Select(h => h.Name == "hv1" ? h with { LastMigrationEndedAt = Fixture.Now.AddSeconds(-30) } : h)] };

        var first = Assert.Single(Planner.PlanPass(new PassInput(input, [], ["hv1"], NoDecisions, ReturnHome: false)));
        Assert.Equal(Reasons.Settling, first.Reason);
        Assert.StartsWith("a migration touched hv1 until ", first.Detail, StringComparison.Ordinal);

        var said = new Dictionary<(DecisionKind, string), LastDecision> { [(DecisionKind.Relief, "hv1")] = new(Fixture.Now.AddSeconds(-20), null) };
        Assert.Empty(Planner.PlanPass(new PassInput(input, [], ["hv1"], said)));

        // Settled (90 s after the migration's end): the relief follows at once, the settling wait opened no window.
        var settled = input with { Now = Fixture.Now.AddSeconds(61) };
        Assert.Equal(Reasons.Overloaded, Assert.Single(Planner.PlanPass(new PassInput(settled, [], ["hv1"], said, ReturnHome: false))).Reason);
    }

    [Fact]
    public void One_relief_per_host_per_window()
    {
        var input = Fixture.Seed().Input();
        var decided = new Dictionary<(DecisionKind, string), LastDecision>
        {
            [(DecisionKind.Relief, "hv1")] = new(Fixture.Now.AddSeconds(-59), Fixture.Now.AddSeconds(-59)),
        };

        Assert.Empty(Planner.PlanPass(new PassInput(input, [], ["hv1"], decided, ReturnHome: false)));
        Assert.Single(Planner.PlanPass(new PassInput(input with { Now = Fixture.Now.AddSeconds(1) }, [], ["hv1"], decided, ReturnHome: false)));
    }
}
