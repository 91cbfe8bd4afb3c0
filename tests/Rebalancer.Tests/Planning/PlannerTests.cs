using Loadshift.Rebalancer.Planning;

namespace Loadshift.Rebalancer.Tests.Planning;

public sealed class PlannerTests
{
    [Fact]
    public void Seed_first_move_takes_the_lightest_relieving_vm_to_the_emptiest_host()
    {
        var decision = Planner.PlanRelief(Fixture.Seed().Input(), "hv1");

        Assert.Equal(DecisionOutcome.Migrate, decision.Outcome);
        Assert.Equal(Reasons.Overloaded, decision.Reason);
        var move = decision.Migration!;
        Assert.Equal(("vm2", "hv1", "hv2"), (move.Domain, move.Source, move.Target));
        Assert.Equal(0.93 - 0.29, move.SourceBusyAfter, 6);
        Assert.Equal(0.04 + 0.29, move.TargetBusyAfter, 6);
    }

    [Fact]
    public void Seed_second_move_goes_to_hv3_because_hv2_already_holds_one()
    {
        // vm2 went to hv2 (0.04 + 0.29); hv1 still above the high watermark, with more client load.
        var input = new Fixture()
            .Host("hv1", busy: 0.88)
            .Host("hv2", busy: 0.33)
            .Host("hv3", busy: 0.05)
            .Domain("vm1", "hv1", 0.42)
            .Domain("vm3", "hv1", 0.43)
            .Domain("vm2", "hv2", 0.29, home: "hv1")
            .Moved("vm2", TimeSpan.FromMinutes(2))
            .Input();

        var decision = Planner.PlanRelief(input, "hv1");

        Assert.Equal(("vm1", "hv3"), (decision.Migration!.Domain, decision.Migration.Target));
    }

    [Fact]
    public void Ties_between_targets_go_to_the_host_listed_first()
    {
        var input = new Fixture().Host("hv1", 0.9).Host("hv2", 0.1).Host("hv3", 0.1).Domain("vm1", "hv1", 0.3).Input();

        Assert.Equal("hv2", Planner.PlanRelief(input, "hv1").Migration!.Target);
    }

    [Fact]
    public void Idle_hosts_differing_by_noise_count_as_a_tie()
    {
        // As measured in the lab: hv2 0.004, hv3 0.002 busy with nothing on them.
        var input = new Fixture().Host("hv1", 1.0).Host("hv2", 0.004).Host("hv3", 0.002).Domain("vm1", "hv1", 0.3).Input();

        Assert.Equal("hv2", Planner.PlanRelief(input, "hv1").Migration!.Target);
    }

    [Fact]
    public void When_no_single_move_relieves_the_host_the_busiest_vm_moves_as_the_seed_did()
    {
        // 0.99 - 0.15 is still above 0.80 for every VM.
        var input = new Fixture()
            .Host("hv1", 0.99).Host("hv2", 0.10)
            .Domain("vm1", "hv1", 0.10).Domain("vm2", "hv1", 0.15).Domain("vm3", "hv1", 0.12)
            .Input();

        var decision = Planner.PlanRelief(input, "hv1");

        Assert.Equal("vm2", decision.Migration!.Domain);
        Assert.Contains("busiest", decision.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_target_that_would_pass_the_high_watermark_is_not_used()
    {
        var input = new Fixture().Host("hv1", 0.95).Host("hv2", 0.60).Domain("vm1", "hv1", 0.25).Input();

        var decision = Planner.PlanRelief(input, "hv1");

        Assert.Equal(DecisionOutcome.NoAction, decision.Outcome);
        Assert.Equal(Reasons.NoTarget, decision.Reason);
    }

    [Fact]
    public void Shares_convert_by_capacity_between_hosts_of_different_sizes()
    {
        // vm1 uses 0.2 of a 4-CPU host: 0.8 CPU, i.e. 0.4 of a 2-CPU host.
        var input = new Fixture().Host("hv1", 0.9, cpus: 4).Host("hv2", 0.3, cpus: 2).Host("hv3", 0.1, cpus: 8)
            .Domain("vm1", "hv1", 0.2).Input();

        var move = Planner.PlanRelief(input, "hv1").Migration!;

        Assert.Equal("hv3", move.Target);
        Assert.Equal(0.1 + (0.2 * 4 / 8), move.TargetBusyAfter, 6);
    }

    [Fact]
    public void Memory_that_does_not_fit_rules_out_a_target()
    {
        var input = new Fixture()
            .Host("hv1", 0.9)
            .Host("hv2", 0.05, available: 512L << 20) // Prometheus: 512 MiB free
            .Host("hv3", 0.30, memory: 4L << 30)
            .Domain("vm1", "hv1", 0.3, memory: 1L << 30)
            .Domain("big", "hv3", 0.0, memory: 3L << 30) // hv3 has 1 GiB left by the inventory
            .Input();

        var move = Planner.PlanRelief(input, "hv1").Migration!;

        Assert.Equal("hv3", move.Target);
    }

    [Fact]
    public void Memory_fitting_nowhere_gives_no_target()
    {
        var input = new Fixture().Host("hv1", 0.9).Host("hv2", 0.05, memory: 1L << 30)
            .Domain("vm1", "hv1", 0.3, memory: 2L << 30).Input();

        Assert.Equal(Reasons.NoTarget, Planner.PlanRelief(input, "hv1").Reason);
    }

    [Theory]
    [InlineData("maintenance")]
    [InlineData("unreachable")]
    [InlineData("in-migration")]
    public void Targets_in_maintenance_unreachable_or_in_a_migration_are_excluded(string condition)
    {
        var fixture = new Fixture()
            .Host("hv1", 0.9)
            .Host("hv2", 0.05, maintenance: condition == "maintenance", reachable: condition != "unreachable")
            .Host("hv3", 0.40)
            .Host("hv4", 0.10)
            .Domain("vm1", "hv1", 0.3).Domain("vm2", "hv1", 0.3).Domain("vm9", "hv4", 0.1);
        if (condition == "in-migration")
        {
            fixture.Migrating("vm9", "hv4", "hv2");
            fixture.Policy = fixture.Policy with { MaxMigrationsInFlight = 2 };
        }
        var move = Planner.PlanRelief(fixture.Input(), "hv1").Migration!;

        Assert.Equal(condition == "in-migration" ? "hv3" : "hv4", move.Target);
    }

    [Fact]
    public void Pinned_vms_never_move()
    {
        var input = new Fixture().Host("hv1", 0.9).Host("hv2", 0.1)
            .Domain("db", "hv1", 0.2, pinned: true).Domain("vm1", "hv1", 0.4).Input();

        Assert.Equal("vm1", Planner.PlanRelief(input, "hv1").Migration!.Domain);
    }

    [Fact]
    public void A_vm_without_a_cpu_figure_is_not_moved_blind()
    {
        var input = new Fixture().Host("hv1", 0.9).Host("hv2", 0.1).Domain("new", "hv1", 0).Input();

        var decision = Planner.PlanRelief(input, "hv1");

        Assert.Equal(Reasons.NoMovableDomain, decision.Reason);
        Assert.Contains("new: no CPU figure", decision.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_vm_in_its_cooldown_is_skipped_and_the_next_one_moves()
    {
        var input = Fixture.Seed().Moved("vm2", TimeSpan.FromMinutes(3)).Input();

        Assert.Equal("vm1", Planner.PlanRelief(input, "hv1").Migration!.Domain);
    }

    [Fact]
    public void Cooldown_backs_off_with_each_recent_move()
    {
        var policy = new PlanningPolicy(Cooldown: TimeSpan.FromMinutes(5), CooldownBackoff: 2, MaxCooldown: TimeSpan.FromMinutes(30));
        var ended = Fixture.Now;

        Assert.Equal(ended.AddMinutes(5), Planner.CooldownUntil(new DomainHistory(ended, ended, 1), policy));
        Assert.Equal(ended.AddMinutes(10), Planner.CooldownUntil(new DomainHistory(ended, ended, 2), policy));
        Assert.Equal(ended.AddMinutes(20), Planner.CooldownUntil(new DomainHistory(ended, ended, 3), policy));
        Assert.Equal(ended.AddMinutes(30), Planner.CooldownUntil(new DomainHistory(ended, ended, 6), policy));
        Assert.Null(Planner.CooldownUntil(null, policy));
    }

    [Fact]
    public void A_vm_moved_three_times_recently_stays_put_for_the_longer_cooldown()
    {
        // 12 minutes ago: past the plain 5 minutes, within 5 × 2² = 20.
        var input = new Fixture().Host("hv1", 0.9).Host("hv2", 0.1).Domain("vm1", "hv1", 0.3)
            .Moved("vm1", TimeSpan.FromMinutes(12), recent: 3).Input();

        Assert.Equal(Reasons.NoMovableDomain, Planner.PlanRelief(input, "hv1").Reason);
    }

    [Fact]
    public void A_host_under_the_high_watermark_is_left_alone()
    {
        var input = new Fixture().Host("hv1", 0.79).Host("hv2", 0.1).Domain("vm1", "hv1", 0.3).Input();

        Assert.Equal(Reasons.NotOverloaded, Planner.PlanRelief(input, "hv1").Reason);
    }

    [Fact]
    public void The_in_flight_limit_holds()
    {
        var input = Fixture.Seed().Host("hv4", 0.1).Domain("x", "hv4", 0.1).Migrating("x", "hv4", "hv3").Input();

        Assert.Equal(Reasons.InFlightLimit, Planner.PlanRelief(input, "hv1").Reason);
    }

    [Fact]
    public void Unknown_unreachable_and_unmeasured_hosts_get_no_action_with_the_reason()
    {
        var input = new Fixture().Host("hv1", 0.9, reachable: false).Host("hv2", 0.1).Input();
        Assert.Equal(Reasons.HostUnreachable, Planner.PlanRelief(input, "hv1").Reason);
        Assert.Equal(Reasons.UnknownHost, Planner.PlanRelief(input, "nope").Reason);

        var unmeasured = new PlanningInput([new HostView("hv1", 2, 0, null, null, null, false, true)], [],
            new Dictionary<string, DomainHistory>(), [], new PlanningPolicy(), Fixture.Now);
        Assert.Equal(Reasons.NoMetrics, Planner.PlanRelief(unmeasured, "hv1").Reason);
    }

    [Fact]
    public void Return_home_takes_the_last_moved_first()
    {
        var input = new Fixture()
            .Host("hv1", 0.10, calmMax: 0.20).Host("hv2", 0.35).Host("hv3", 0.35)
            .Domain("vm1", "hv1", 0.05)
            .Domain("vm2", "hv2", 0.30, home: "hv1").Moved("vm2", TimeSpan.FromMinutes(20))
            .Domain("vm3", "hv3", 0.30, home: "hv1").Moved("vm3", TimeSpan.FromMinutes(15))
            .Input();

        var decision = Planner.PlanReturnHome(input);

        Assert.Equal(Reasons.ReturnHome, decision.Reason);
        Assert.Equal(("vm3", "hv3", "hv1"), (decision.Migration!.Domain, decision.Migration.Source, decision.Migration.Target));
    }

    [Fact]
    public void Return_home_waits_until_the_home_host_stayed_under_the_low_watermark()
    {
        // Now at 0.2, but it was at 0.6 within the calm window.
        var input = new Fixture().Host("hv1", 0.2, calmMax: 0.6).Host("hv2", 0.3)
            .Domain("vm2", "hv2", 0.3, home: "hv1").Moved("vm2", TimeSpan.FromMinutes(10)).Input();

        var decision = Planner.PlanReturnHome(input);

        Assert.Equal(Reasons.HomeNotReady, decision.Reason);
        Assert.Equal("hv1", decision.Host);
    }

    [Fact]
    public void Return_home_is_skipped_when_it_would_push_the_home_host_over_the_high_watermark()
    {
        var input = new Fixture().Host("hv1", 0.45, calmMax: 0.48).Host("hv2", 0.5)
            .Domain("vm2", "hv2", 0.40, home: "hv1").Moved("vm2", TimeSpan.FromMinutes(10)).Input();

        Assert.Equal(Reasons.HomeNotReady, Planner.PlanReturnHome(input).Reason);
    }

    [Fact]
    public void Return_home_moves_an_earlier_vm_when_the_last_moved_does_not_fit()
    {
        var input = new Fixture().Host("hv1", 0.40, calmMax: 0.45).Host("hv2", 0.6).Host("hv3", 0.3)
            .Domain("heavy", "hv2", 0.5, home: "hv1").Moved("heavy", TimeSpan.FromMinutes(5))
            .Domain("light", "hv3", 0.04, home: "hv1").Moved("light", TimeSpan.FromMinutes(9))
            .Input();

        Assert.Equal("light", Planner.PlanReturnHome(input).Migration!.Domain);
    }

    [Fact]
    public void Nothing_away_from_home_is_no_action()
    {
        Assert.Equal(Reasons.NothingAway, Planner.PlanReturnHome(Fixture.Seed().Input()).Reason);
    }

    [Fact]
    public void Drain_moves_the_busiest_off_ignoring_cooldowns_and_never_onto_the_drained_host()
    {
        var input = new Fixture().Host("hv1", 0.5, maintenance: true).Host("hv2", 0.2).Host("hv3", 0.1)
            .Domain("vm1", "hv1", 0.1).Domain("vm2", "hv1", 0.3).Moved("vm2", TimeSpan.FromMinutes(1))
            .Domain("db", "hv1", 0.05, pinned: true)
            .Input();

        var decision = Planner.PlanDrain(input, "hv1");

        Assert.Equal(Reasons.Drain, decision.Reason);
        Assert.Equal(("vm2", "hv3"), (decision.Migration!.Domain, decision.Migration.Target));
    }

    [Fact]
    public void Drain_is_complete_when_only_pinned_vms_remain()
    {
        var input = new Fixture().Host("hv1", 0.1, maintenance: true).Host("hv2", 0.2)
            .Domain("db", "hv1", 0.05, pinned: true).Input();

        var decision = Planner.PlanDrain(input, "hv1");

        Assert.Equal(Reasons.DrainComplete, decision.Reason);
        Assert.Contains("db", decision.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Return_home_never_targets_a_host_in_maintenance()
    {
        var input = new Fixture().Host("hv1", 0.05, maintenance: true).Host("hv2", 0.3)
            .Domain("vm1", "hv2", 0.1, home: "hv1").Moved("vm1", TimeSpan.FromMinutes(30)).Input();

        Assert.Equal(Reasons.HomeNotReady, Planner.PlanReturnHome(input).Reason);
    }

    [Fact]
    public void A_vm_libvirt_shows_on_two_hosts_is_not_moved_away_home_or_off_a_drained_host()
    {
        // vm2 would be the seed's first move; libvirt shows it active on hv3 as well (a migration by hand).
        var relief = Fixture.Seed().Input() with
        {
            Domains = [.. Fixture.Seed().Input().Domains.Select(d => d.Name == "vm2" ? d with { AlsoOn = "hv3" } : d)],
        };
        var away = new Fixture().Host("hv1", 0.05).Host("hv2", 0.3)
            .Domain("vm1", "hv2", 0.1, home: "hv1", alsoOn: "hv1").Moved("vm1", TimeSpan.FromMinutes(30)).Input();
        var drained = new Fixture().Host("hv1", 0.2, maintenance: true).Host("hv2", 0.1)
            .Domain("vm1", "hv1", 0.1, alsoOn: "hv2").Input();

        Assert.Equal("vm1", Planner.PlanRelief(relief, "hv1").Migration!.Domain);
        var home = Planner.PlanReturnHome(away);
        Assert.Equal(Reasons.HomeNotReady, home.Reason);
        Assert.Contains("vm1: libvirt shows it on hv2 and hv1", home.Detail, StringComparison.Ordinal);
        Assert.Equal(Reasons.HostInMigration, Planner.PlanDrain(drained, "hv1").Reason);
    }

    [Fact]
    public void A_host_that_just_received_a_domain_takes_no_other_until_its_busy_ratio_shows_it()
    {
        // hv2 looks idle, but its 1m busy ratio does not show the domain it received 20 s ago yet.
        var input = Fixture.Seed().Input();
        input = input with { Hosts = [.. input.Hosts.Select(h => h.Name == "hv2" ? h with { Settling = true } : h)] };
        var onlyHv2 = new Fixture().Host("hv1", 0.93).Host("hv2", 0.04, settling: true).Domain("vm1", "hv1", 0.30).Input();

        Assert.Equal("hv3", Planner.PlanRelief(input, "hv1").Migration!.Target);
        var none = Planner.PlanRelief(onlyHv2, "hv1");
        Assert.Equal(Reasons.NoTarget, none.Reason);
        Assert.Contains("settling from a migration, taking nothing yet: hv2", none.Detail, StringComparison.Ordinal);
    }
}
