using Loadshift.Rebalancer.Planning;

namespace Loadshift.Rebalancer.Tests.Planning;

/// <summary>Return home held to the low watermark by prediction (issue 12, item 6): the lab's vm3 came home to hv1 at 0.40
/// with its load still on, and hv1 went straight back to 0.80.</summary>
public sealed class ReturnHomeTests
{
    private static Fixture LabAfterTheAlert(double vm3Share) => new Fixture()
        .Host("hv1", 0.40, calmMax: 0.42).Host("hv2", 0.35).Host("hv3", 0.45)
        .Domain("vm1", "hv1", 0.20).Domain("vm2", "hv2", 0.29, home: "hv1").Domain("vm3", "hv3", vm3Share, home: "hv1")
        .Moved("vm2", TimeSpan.FromMinutes(20)).Moved("vm3", TimeSpan.FromMinutes(10));

    [Fact]
    public void A_domain_whose_return_would_take_home_to_the_low_watermark_stays_away()
    {
        var decision = Planner.PlanReturnHome(LabAfterTheAlert(vm3Share: 0.40).Input());

        Assert.Equal(Reasons.HomeNotReady, decision.Reason);
        Assert.Contains(decision.Rejected!, r => r is { Domain: "vm3", Target: "hv1", Rule: "low_watermark", Reason: "hv1 would reach 0.80, not under the low watermark 0.50" });
        Assert.Contains(decision.Rejected!, r => r is { Domain: "vm2", Target: "hv1", Rule: "low_watermark" });
    }

    [Fact]
    public void It_comes_home_once_its_load_leaves_home_under_the_low_watermark()
    {
        var decision = Planner.PlanReturnHome(LabAfterTheAlert(vm3Share: 0.05).Input());

        Assert.Equal(("vm3", "hv3", "hv1"), (decision.Migration!.Domain, decision.Migration.Source, decision.Migration.Target));
        Assert.True(decision.Migration.TargetBusyAfter < 0.50);
    }
}
