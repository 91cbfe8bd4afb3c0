using Loadshift.Rebalancer.Planning;

namespace Loadshift.Rebalancer.Tests.Planning;

/// <summary>A hard rule found broken (issue 12, item 2): listed by <see cref="Planner.Violations(PlanningInput)"/> and
/// repaired by one move when one can without taking a host over a watermark.</summary>
public sealed class RuleRepairTests
{
    /// <summary>web1 and web2 (hard group) both on hv1, moved there by hand; hv2 busy, hv3 idle.</summary>
    private static Fixture BrokenGroup(double hv3Busy) => new Fixture().Host("hv1", 0.40).Host("hv2", 0.75).Host("hv3", hv3Busy)
        .Domain("web1", "hv1", 0.20).Domain("web2", "hv1", 0.10).Domain("db", "hv2", 0.30)
        .AntiAffinity("web", hard: true, "web1", "web2");

    [Fact]
    public void A_broken_hard_group_is_listed_and_repaired_by_one_move()
    {
        var input = BrokenGroup(hv3Busy: 0.05).Input();

        var violation = Assert.Single(Planner.Violations(input));
        Assert.Equal(new RuleViolation("anti_affinity", "hv1", ["web1", "web2"], "web1 and web2 of anti-affinity group web run on hv1"),
            violation with { Domains = [.. violation.Domains] }, new ViolationComparer());

        var decision = Planner.PlanRuleRepair(input);
        Assert.Equal((DecisionKind.RuleRepair, Reasons.RuleRepair, "hv1"), (decision.Kind, decision.Reason, decision.Host));
        // web1 to hv2 would reach 0.95: rejected; web1 to hv3 repairs it.
        Assert.Equal(("web1", "hv3"), (decision.Migration!.Domain, decision.Migration.Target));
        Assert.StartsWith("web1 and web2 of anti-affinity group web run on hv1; ", decision.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void No_repair_takes_a_host_over_a_watermark()
    {
        var decision = Planner.PlanRuleRepair(BrokenGroup(hv3Busy: 0.75).Input());

        Assert.Equal(Reasons.NoTarget, decision.Reason);
        Assert.Contains(decision.Rejected!, r => r is { Domain: "web1", Target: "hv3", Rule: "high_watermark" });
    }

    [Fact]
    public void A_domain_on_a_never_host_or_off_its_must_hosts_is_listed_and_moved()
    {
        var input = new Fixture().Host("hv1", 0.40).Host("hv2", 0.10).Host("hv3", 0.05)
            .Domain("batch", "hv3", 0.10).Domain("db", "hv1", 0.10)
            .DomainHost("batch", never: ["hv3"]).DomainHost("db", must: ["hv2"]).Input();

        Assert.Equal(["must_run_on db hv1", "never_on batch hv3"],
            Planner.Violations(input).Select(v => $"{v.Rule} {string.Join(",", v.Domains)} {v.Host}"));
        var decision = Planner.PlanRuleRepair(input);
        Assert.Equal(("db", "hv2"), (decision.Migration!.Domain, decision.Migration.Target));
    }

    [Fact]
    public void Nothing_broken_nothing_to_repair()
    {
        var input = Fixture.Seed().AntiAffinity("web", hard: true, "vm1", "vm9").Input();

        Assert.Empty(Planner.Violations(input));
        Assert.Equal(Reasons.NoViolation, Planner.PlanRuleRepair(input).Reason);
    }

    private sealed class ViolationComparer : IEqualityComparer<RuleViolation>
    {
        public bool Equals(RuleViolation? x, RuleViolation? y) =>
            x is not null && y is not null && (x.Rule, x.Host, x.Detail) == (y.Rule, y.Host, y.Detail) && x.Domains.SequenceEqual(y.Domains);

        public int GetHashCode(RuleViolation obj) => obj.Detail.GetHashCode(StringComparison.Ordinal);
    }
}
