using Loadshift.Rebalancer.Planning;

namespace Loadshift.Rebalancer.Tests.Planning;

/// <summary>No flapping (issue 12, item 6): at most policy.maxMovesPerDomain moves of a domain within
/// policy.maxMovesWindow, and no move that sends a domain back where it came from within its cooldown.</summary>
public sealed class FlappingTests
{
    [Fact]
    public void A_move_back_after_the_cooldown_is_allowed()
    {
        // vm2 came from hv2; that move ended 11 minutes ago, its cooldown is 10: hv2, with the most headroom, takes it back.
        var fixture = new Fixture().Host("hv1", 0.93).Host("hv2", 0.04).Host("hv3", 0.30)
            .Domain("vm1", "hv1", 0.45).Domain("vm2", "hv1", 0.29, home: "hv2")
            .Moved("vm2", "hv2", "hv1", TimeSpan.FromMinutes(12));
        fixture.Policy = fixture.Policy with { Cooldown = TimeSpan.FromMinutes(10) };

        var decision = Planner.PlanRelief(fixture.Input(), "hv1");

        Assert.Equal(("vm2", "hv2"), (decision.Migration!.Domain, decision.Migration.Target));
    }

    [Fact]
    public void A_move_back_within_the_cooldown_is_rejected_and_another_target_taken()
    {
        // vm2 came from hv2 8 minutes ago (ended 7 ago); the policy's cooldown is 10 minutes for the undo, while the
        // relief's own cooldown gate is lifted by a history that says the domain moved long ago (an older journal row
        // counted elsewhere): the target rule alone must keep it off hv2.
        var fixture = new Fixture().Host("hv1", 0.93).Host("hv2", 0.04).Host("hv3", 0.30)
            .Domain("vm1", "hv1", 0.45).Domain("vm2", "hv1", 0.29, home: "hv2")
            .Moved("vm2", "hv2", "hv1", TimeSpan.FromMinutes(8));
        fixture.Policy = fixture.Policy with { Cooldown = TimeSpan.FromMinutes(10) };
        var input = fixture.Input();
        input = input with
        {
            History = new Dictionary<string, DomainHistory>(StringComparer.Ordinal)
            {
                ["vm2"] = new(Fixture.Now.AddMinutes(-60), Fixture.Now.AddMinutes(-59), 1),
            },
        };

        var decision = Planner.PlanRelief(input, "hv1");

        Assert.Equal(("vm2", "hv3"), (decision.Migration!.Domain, decision.Migration.Target));
        var rejection = Assert.Single(decision.Rejected!, r => r.Domain == "vm2" && r.Target == "hv2");
        Assert.Equal("undoes_move", rejection.Rule);
        Assert.StartsWith("vm2 came from hv2 at ", rejection.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_domain_at_its_move_limit_stays_for_relief_and_return_home()
    {
        // vm2 moved 3 times within the hour (the default limit), the last 30 minutes ago: its cooldown (20 min) is over.
        var fixture = Bounced(firstMinutesAgo: 55);

        var relief = Planner.PlanRelief(fixture.Input(), "hv1");
        var home = Planner.PlanReturnHome(fixture.Input());

        Assert.Equal("vm1", relief.Migration!.Domain);
        Assert.Equal(Reasons.HomeNotReady, home.Reason);
        Assert.Contains("vm2: moved 3 time(s) within policy.maxMovesWindow (3600s), limit 3", home.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void The_limit_counts_only_moves_within_the_window()
    {
        Assert.Equal("vm2", Planner.PlanRelief(Bounced(firstMinutesAgo: 65).Input(), "hv1").Migration!.Domain);
    }

    [Fact]
    public void Return_home_after_its_calm_window_may_undo_a_move()
    {
        // vm3 left hv1 for hv3 six minutes ago; hv1 stayed under the low watermark since: the return is the exception.
        var fixture = new Fixture().Host("hv1", 0.10, calmMax: 0.12).Host("hv3", 0.30)
            .Domain("vm3", "hv3", 0.05, home: "hv1")
            .Moved("vm3", "hv1", "hv3", TimeSpan.FromMinutes(6));

        var decision = Planner.PlanReturnHome(fixture.Input());

        Assert.Equal(("vm3", "hv1"), (decision.Migration!.Domain, decision.Migration.Target));
    }

    /// <summary>hv1 overloaded; vm2 (0.29, the lightest that relieves it) went hv3 -> hv2 -> hv3 -> hv1, the first move
    /// <paramref name="firstMinutesAgo"/>, the others 45 and 31 minutes ago.</summary>
    private static Fixture Bounced(int firstMinutesAgo) => new Fixture().Host("hv1", 0.93).Host("hv2", 0.04).Host("hv3", 0.05)
        .Domain("vm1", "hv1", 0.45).Domain("vm2", "hv1", 0.29, home: "hv3")
        .Moved("vm2", "hv3", "hv2", TimeSpan.FromMinutes(firstMinutesAgo))
        .Moved("vm2", "hv2", "hv3", TimeSpan.FromMinutes(45))
        .Moved("vm2", "hv3", "hv1", TimeSpan.FromMinutes(31));
}
