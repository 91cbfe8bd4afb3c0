using Loadshift.Rebalancer.Planning;

namespace Loadshift.Rebalancer.Tests.Planning;

/// <summary>One fixture per placement rule, on the seed's cluster: without rules relief moves vm2 (0.29, the lightest
/// that brings hv1 under 0.80) to hv2 (the most headroom); each rule changes that choice in its own way.</summary>
public sealed class RuleTests
{
    [Fact]
    public void Hard_anti_affinity_keeps_a_member_off_the_host_that_holds_another()
    {
        var input = Fixture.Seed().Domain("web2", "hv2", 0.01).AntiAffinity("web", hard: true, "vm2", "web2").Input();

        var decision = Planner.PlanRelief(input, "hv1");

        Assert.Equal(("vm2", "hv3"), (decision.Migration!.Domain, decision.Migration.Target));
        var rejection = Assert.Single(decision.Rejected!, r => r.Domain == "vm2" && r.Target == "hv2");
        Assert.Equal("anti_affinity", rejection.Rule);
        Assert.Equal("hv2 holds web2 of anti-affinity group web", rejection.Reason);
    }

    [Fact]
    public void Hard_anti_affinity_with_members_everywhere_moves_another_domain()
    {
        var input = Fixture.Seed().Domain("a", "hv2", 0.01).Domain("b", "hv3", 0.01)
            .AntiAffinity("web", hard: true, "vm2", "a", "b").Input();

        var decision = Planner.PlanRelief(input, "hv1");

        Assert.Equal(("vm1", "hv2"), (decision.Migration!.Domain, decision.Migration.Target));
    }

    [Fact]
    public void Soft_anti_affinity_is_broken_only_when_no_other_move_relieves()
    {
        // hv3 has no room for anything: vm2 could only go to hv2, next to web2; vm1 relieves hv1 without breaking it.
        var others = new Fixture().Host("hv1", 0.93).Host("hv2", 0.04).Host("hv3", 0.70)
            .Domain("vm1", "hv1", 0.30).Domain("vm2", "hv1", 0.29).Domain("web2", "hv2", 0.01)
            .AntiAffinity("web", hard: false, "vm2", "web2").Input();
        Assert.Equal(("vm1", "hv2"), (Planner.PlanRelief(others, "hv1").Migration!.Domain, Planner.PlanRelief(others, "hv1").Migration!.Target));

        // vm2 alone on hv1: breaking the soft group is the only relief, and the decision says so.
        var only = new Fixture().Host("hv1", 0.93).Host("hv2", 0.04).Host("hv3", 0.70)
            .Domain("vm2", "hv1", 0.29).Domain("web2", "hv2", 0.01)
            .AntiAffinity("web", hard: false, "vm2", "web2").Input();
        var decision = Planner.PlanRelief(only, "hv1");
        Assert.Equal(("vm2", "hv2"), (decision.Migration!.Domain, decision.Migration.Target));
        Assert.Contains("breaks soft rule(s): anti_affinity_soft: hv2 holds web2 of anti-affinity group web", decision.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Soft_anti_affinity_outweighs_headroom()
    {
        var input = Fixture.Seed().Domain("web2", "hv2", 0.01).AntiAffinity("web", hard: false, "vm2", "web2").Input();

        Assert.Equal("hv3", Planner.PlanRelief(input, "hv1").Migration!.Target);
    }

    [Fact]
    public void Affinity_prefers_the_host_holding_the_other_members()
    {
        var input = Fixture.Seed().Domain("db", "hv3", 0.01).Affinity("app", "vm2", "db").Input();

        var decision = Planner.PlanRelief(input, "hv1");

        Assert.Equal(("vm2", "hv3"), (decision.Migration!.Domain, decision.Migration.Target));
    }

    [Fact]
    public void Must_run_on_allows_only_its_hosts()
    {
        var decision = Planner.PlanRelief(Fixture.Seed().DomainHost("vm2", must: ["hv1", "hv3"]).Input(), "hv1");

        Assert.Equal(("vm2", "hv3"), (decision.Migration!.Domain, decision.Migration.Target));
        var rejection = Assert.Single(decision.Rejected!, r => r.Domain == "vm2" && r.Target == "hv2");
        Assert.Equal(("must_run_on", "vm2 must run on hv1, hv3"), (rejection.Rule, rejection.Reason));
    }

    [Fact]
    public void Must_run_on_only_the_source_keeps_the_domain_in_place()
    {
        var decision = Planner.PlanRelief(Fixture.Seed().DomainHost("vm2", must: ["hv1"]).Input(), "hv1");

        Assert.Equal("vm1", decision.Migration!.Domain);
    }

    [Fact]
    public void Never_on_keeps_the_domain_off_that_host()
    {
        var decision = Planner.PlanRelief(Fixture.Seed().DomainHost("vm2", never: ["hv2"]).Input(), "hv1");

        Assert.Equal(("vm2", "hv3"), (decision.Migration!.Domain, decision.Migration.Target));
        Assert.Contains(decision.Rejected!, r => r is { Domain: "vm2", Target: "hv2", Rule: "never_on", Reason: "vm2 never runs on hv2" });
    }

    [Fact]
    public void Should_run_on_is_preferred_and_broken_when_its_host_has_no_room()
    {
        Assert.Equal("hv3", Planner.PlanRelief(Fixture.Seed().DomainHost("vm2", should: ["hv3"]).Input(), "hv1").Migration!.Target);

        var full = new Fixture().Host("hv1", 0.93).Host("hv2", 0.04).Host("hv3", 0.70).Domain("vm2", "hv1", 0.29)
            .DomainHost("vm2", should: ["hv3"]).Input();
        var decision = Planner.PlanRelief(full, "hv1");
        Assert.Equal("hv2", decision.Migration!.Target);
        Assert.Contains("should_run_on: vm2 should run on hv3", decision.Detail, StringComparison.Ordinal);
        Assert.Contains(decision.Rejected!, r => r is { Target: "hv3", Rule: "high_watermark" });
    }

    [Fact]
    public void Drain_follows_the_hard_rules()
    {
        var input = Fixture.Seed().Domain("web2", "hv3", 0.01)
            .DomainHost("vm3", never: ["hv2"]).AntiAffinity("web", hard: true, "vm3", "web2").Input();

        var decision = Planner.PlanDrain(input, "hv1");

        // vm3 (busiest) has nowhere to go; vm1 is next.
        Assert.Equal(("vm1", "hv2"), (decision.Migration!.Domain, decision.Migration.Target));
        Assert.Contains(decision.Rejected!, r => r is { Domain: "vm3", Target: "hv2", Rule: "never_on" });
        Assert.Contains(decision.Rejected!, r => r is { Domain: "vm3", Target: "hv3", Rule: "anti_affinity" });
    }

    [Fact]
    public void Return_home_breaks_no_hard_rule()
    {
        var away = new Fixture().Host("hv1", 0.10, calmMax: 0.12).Host("hv2", 0.40)
            .Domain("vm1", "hv2", 0.20, home: "hv1").Domain("web2", "hv1", 0.01);

        Assert.Equal(DecisionOutcome.Migrate, Planner.PlanReturnHome(away.Input()).Outcome);

        var apart = Planner.PlanReturnHome(away.AntiAffinity("web", hard: true, "vm1", "web2").Input());
        Assert.Equal(Reasons.HomeNotReady, apart.Reason);
        Assert.Contains("vm1: hv1 holds web2 of anti-affinity group web", apart.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Return_home_never_goes_to_a_never_on_home()
    {
        var input = new Fixture().Host("hv1", 0.10, calmMax: 0.12).Host("hv2", 0.40)
            .Domain("vm1", "hv2", 0.20, home: "hv1").DomainHost("vm1", never: ["hv1"]).Input();

        var decision = Planner.PlanReturnHome(input);

        Assert.Equal(Reasons.HomeNotReady, decision.Reason);
        Assert.Contains(decision.Rejected!, r => r is { Domain: "vm1", Target: "hv1", Rule: "never_on" });
    }

    [Fact]
    public void Return_home_breaks_no_more_soft_rules_than_staying()
    {
        var input = new Fixture().Host("hv1", 0.10, calmMax: 0.12).Host("hv2", 0.40)
            .Domain("vm1", "hv2", 0.20, home: "hv1").Domain("web2", "hv1", 0.01)
            .AntiAffinity("web", hard: false, "vm1", "web2").Input();

        var decision = Planner.PlanReturnHome(input);

        Assert.Equal(Reasons.HomeNotReady, decision.Reason);
        Assert.Contains("going home breaks anti_affinity_soft", decision.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_target_without_a_busy_ratio_is_rejected()
    {
        var input = new PlanningInput(
            [new HostView("hv1", 2, 8L << 30, 0.93, 0.93, null, false, true), new HostView("hv2", 2, 8L << 30, null, null, null, false, true)],
            [new DomainView("vm1", "hv1", 0.30, 1L << 30, "hv1", false)],
            new Dictionary<string, DomainHistory>(), [], new PlanningPolicy(), Fixture.Now);

        var decision = Planner.PlanRelief(input, "hv1");

        Assert.Equal(Reasons.NoTarget, decision.Reason);
        Assert.Contains(decision.Rejected!, r => r is { Target: "hv2", Rule: "no_metrics" });
    }

    [Fact]
    public void A_member_arriving_by_migration_counts_on_its_target_too()
    {
        var input = Fixture.Seed().Host("hv4", 0.05).Domain("web2", "hv4", 0.01).Migrating("web2", "hv4", "hv3")
            .AntiAffinity("web", hard: true, "vm2", "web2").Input();
        var rules = new PlanningContext(input).Rules;
        var group = rules.AntiAffinityOf("vm2").Single();

        Assert.Equal(["web2"], rules.MembersOn(group, "vm2", "hv3"));
        Assert.Equal(["web2"], rules.MembersOn(group, "vm2", "hv4"));
        Assert.Empty(rules.MembersOn(group, "vm2", "hv2"));
    }
}
