using Loadshift.Rebalancer.Execution;
using Loadshift.Rebalancer.Inventory;
using Loadshift.Rebalancer.Journal;
using Loadshift.Rebalancer.Planning;
using Loadshift.Rebalancer.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loadshift.Rebalancer.Tests.Execution;

/// <summary>Verified moves: the verdict from the busy ratios (Prometheus faked below IMetricsSource) on a real
/// journal, its metric, its place in the records, and the cooldown it lengthens.</summary>
public sealed class MoveVerifierTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 12, 3, 10, 0, 0, TimeSpan.Zero);

    /// <summary>vm3 off hv1 (0.90 -> predicted 0.60) to hv3 (0.10 -> predicted 0.40).</summary>
    private static readonly MigrationPlan Relief = new("vm3", "hv1", "hv3", 0.30, 512L << 20, 0.90, 0.60, 0.10, 0.40);

    private readonly TempDirectory directory = new();
    private readonly FakeMetricsSource prometheus = new();
    private readonly ManualTimeProvider clock = new(Start);
    private readonly PolicyOptions policy = new() { SettleTime = TimeSpan.FromSeconds(90), CheckInterval = TimeSpan.FromSeconds(15) };

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        directory.Dispose();
    }

    private static MoveToVerify Move(double? predictedSource = 0.60) => new(1, "vm3", "hv1", "hv3", Start, 0.90, predictedSource, 0.40);

    [Theory]
    [InlineData(0.70, 0.40, "helped")] // at the prediction plus the tolerance: as predicted
    [InlineData(0.30, 0.40, "helped")] // lower than predicted (the load also fell): helped
    [InlineData(0.71, 0.40, "did_not_help")]
    [InlineData(0.95, 0.40, "did_not_help")]
    [InlineData(0.50, 0.79, "helped")]
    [InlineData(0.50, 0.80, "overloaded_target")] // the target at the high watermark
    [InlineData(0.95, 0.90, "overloaded_target")] // both: the target's overload is the worse news
    public void The_verdict_compares_the_source_with_its_prediction_and_the_target_with_the_high_watermark(double source, double target, string expected)
    {
        var verdict = MoveVerifier.Judge(Move(), source, target, highWatermark: 0.80, tolerance: 0.10);

        Assert.Equal(expected, verdict.Name);
    }

    [Fact]
    public void A_move_without_a_prediction_is_held_to_the_high_watermark_on_its_source()
    {
        Assert.Equal("helped", MoveVerifier.Judge(Move(predictedSource: null), 0.79, 0.40, 0.80, 0.10).Name);
        var verdict = MoveVerifier.Judge(Move(predictedSource: null), 0.81, 0.40, 0.80, 0.10);
        Assert.Equal("did_not_help", verdict.Name);
        Assert.Contains("no prediction", verdict.Detail, StringComparison.Ordinal);
    }

    private async Task<(Components Components, long MigrationId, long DecisionId)> MovedAsync(string result = MigrationResults.Succeeded)
    {
        var components = new Components(directory.Combine("journal.db"), new FakeHypervisor(), clock, policy, metricsSource: prometheus);
        var journal = components.Journal;
        await journal.InitializeAsync(CancellationToken.None);
        var decision = new Decision(DecisionKind.Relief, "hv1", DecisionOutcome.Migrate, Reasons.Overloaded, "test", Relief);
        var decisionId = await journal.RecordDecisionAsync(clock.GetUtcNow(), decision, false, CancellationToken.None);
        var id = await journal.StartMigrationAsync(clock.GetUtcNow(), decisionId, DecisionKind.Relief, Relief, CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(20));
        await journal.FinishMigrationAsync(id, clock.GetUtcNow(), result, 0, false, "", "hv3", null, CancellationToken.None);
        return (components, id, decisionId);
    }

    private MoveVerifier Verifier(Components components) => new(components.Journal, components.Metrics, policy, clock, NullLogger.Instance);

    private async Task<Loadshift.Rebalancer.Cluster.LoadMetrics> LoadAsync(double hv1, double hv3)
    {
        prometheus.Set(new() { ["hv1"] = hv1, ["hv3"] = hv3 }, []);
        return await prometheus.GetLoadAsync(TimeSpan.FromMinutes(5), CancellationToken.None);
    }

    private static async Task<MigrationRecord> MigrationAsync(Components components, long id) =>
        (await components.Journal.ListMigrationsAsync(null, 10, CancellationToken.None)).Items.Single(m => m.Id == id);

    [Fact]
    public async Task A_move_is_verified_once_after_verifyAfter_and_its_verdict_is_journaled_counted_and_on_its_decision()
    {
        var (components, id, decisionId) = await MovedAsync();
        var verifier = Verifier(components);
        var load = await LoadAsync(hv1: 0.58, hv3: 0.42);

        clock.Advance(TimeSpan.FromSeconds(89));
        Assert.Equal(0, await verifier.VerifyDueAsync(load, CancellationToken.None));
        Assert.Null((await MigrationAsync(components, id)).Verdict);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await verifier.VerifyDueAsync(load, CancellationToken.None));
        Assert.Equal(0, await verifier.VerifyDueAsync(load, CancellationToken.None));

        var migration = await MigrationAsync(components, id);
        Assert.Equal(("helped", Start.AddSeconds(110), 0.58, 0.42), (migration.Verdict, migration.VerifiedAt, migration.SourceBusyObserved, migration.TargetBusyObserved));
        Assert.Equal("hv1 at 0.58 (from 0.90), not above predicted 0.60 + tolerance 0.10; hv3 at 0.42, under 0.80", migration.VerdictDetail);
        Assert.Equal("helped", (await components.Journal.ListDecisionsAsync(null, 10, CancellationToken.None)).Items.Single(d => d.Id == decisionId).Verdict);
        Assert.Equal(1, await Series.ValueAsync(components.Metrics, "rebalancer_move_verdicts_total{verdict=\"helped\"}"));
        Assert.Equal(0, await Series.ValueAsync(components.Metrics, "rebalancer_move_verdicts_total{verdict=\"did_not_help\"}"));
        Assert.Equal(0, await Series.ValueAsync(components.Metrics, "rebalancer_move_verdicts_total{verdict=\"overloaded_target\"}"));
    }

    [Fact]
    public async Task Without_figures_the_move_waits_within_its_window_and_stays_unverified_after_it()
    {
        var (components, id, _) = await MovedAsync();
        var verifier = Verifier(components);
        prometheus.Set(new() { ["hv1"] = 0.58 }, []);
        var withoutTarget = await prometheus.GetLoadAsync(TimeSpan.FromMinutes(5), CancellationToken.None);

        clock.Advance(TimeSpan.FromSeconds(90));
        Assert.Equal(0, await verifier.VerifyDueAsync(withoutTarget, CancellationToken.None));
        Assert.Equal(0, await verifier.VerifyDueAsync(null, CancellationToken.None));
        clock.Advance(TimeSpan.FromSeconds(90));
        Assert.Equal(1, await verifier.VerifyDueAsync(await LoadAsync(0.85, 0.42), CancellationToken.None));
        Assert.Equal("did_not_help", (await MigrationAsync(components, id)).Verdict);

        var (late, lateId, _) = await MovedAsyncAgainAsync();
        clock.Advance(TimeSpan.FromSeconds(181));
        Assert.Equal(0, await Verifier(late).VerifyDueAsync(await LoadAsync(0.58, 0.42), CancellationToken.None));
        Assert.Null((await MigrationAsync(late, lateId)).Verdict);
    }

    /// <summary>A second move of the same journal, ending now.</summary>
    private async Task<(Components, long, long)> MovedAsyncAgainAsync()
    {
        SqliteConnection.ClearAllPools();
        File.Delete(directory.Combine("journal.db"));
        return await MovedAsync();
    }

    [Fact]
    public async Task A_migration_that_failed_is_not_verified()
    {
        var (components, id, _) = await MovedAsync(MigrationResults.Failed);

        clock.Advance(TimeSpan.FromSeconds(90));
        Assert.Equal(0, await Verifier(components).VerifyDueAsync(await LoadAsync(0.95, 0.10), CancellationToken.None));
        Assert.Null((await MigrationAsync(components, id)).Verdict);
    }

    [Theory]
    [InlineData(0.85, 0.42, 2.0)]
    [InlineData(0.55, 0.85, 2.0)]
    [InlineData(0.58, 0.42, 1.0)]
    public async Task A_move_that_did_not_help_lengthens_its_domains_cooldown_by_the_policy_factor(double hv1, double hv3, double factor)
    {
        var (components, _, _) = await MovedAsync();
        clock.Advance(TimeSpan.FromSeconds(90));
        await Verifier(components).VerifyDueAsync(await LoadAsync(hv1, hv3), CancellationToken.None);

        var history = await components.Journal.GetDomainHistoryAsync(Start.AddHours(-1), policy.DidNotHelpCooldownFactor, CancellationToken.None);

        Assert.Equal(factor, history["vm3"].CooldownFactor);
        var cooldown = new PlanningPolicy(Cooldown: TimeSpan.FromMinutes(5));
        Assert.Equal(Start.AddSeconds(20) + TimeSpan.FromMinutes(5) * factor, Gates.CooldownUntil(history["vm3"], cooldown));
    }

    [Fact]
    public async Task A_worker_pass_verifies_the_moves_due_and_the_planner_keeps_the_domain_in_place_for_the_lengthened_cooldown()
    {
        var inventory = new InventoryOptions
        {
            Hosts = [.. new[] { "hv1", "hv3" }.Select(h => new InventoryHost { Name = h, LibvirtUri = $"qemu+tcp://{h}/system", CpuCapacity = 2 })],
        };
        var hypervisor = new FakeHypervisor();
        hypervisor.Place("vm3", "hv3");
        var components = new Components(directory.Combine("journal.db"), hypervisor, clock, policy, inventory, prometheus);
        var journal = components.Journal;
        await journal.InitializeAsync(CancellationToken.None);
        var decision = new Decision(DecisionKind.Relief, "hv1", DecisionOutcome.Migrate, Reasons.Overloaded, "test", Relief);
        var decisionId = await journal.RecordDecisionAsync(clock.GetUtcNow(), decision, false, CancellationToken.None);
        var id = await journal.StartMigrationAsync(clock.GetUtcNow(), decisionId, DecisionKind.Relief, Relief, CancellationToken.None);
        await journal.FinishMigrationAsync(id, clock.GetUtcNow(), MigrationResults.Succeeded, 0, false, "", "hv3", null, CancellationToken.None);
        // hv3 is overloaded now, and fires: relief would move vm3 straight back, if not for its cooldown.
        prometheus.Set(new() { ["hv1"] = 0.20, ["hv3"] = 0.92 }, new() { [("hv3", "vm3")] = 0.30 });
        await journal.RecordWebhookAsync(clock.GetUtcNow(), "g", "firing", "rebalancer", "{}", 0,
            [new AlertUpdate("fp", "HypervisorCpuHigh", "hv3", "rebalance", "firing", clock.GetUtcNow(), null, "{}")], CancellationToken.None);

        clock.Advance(TimeSpan.FromSeconds(90));
        await components.Worker.RunPassAsync(CancellationToken.None);
        Assert.Equal("overloaded_target", (await MigrationAsync(components, id)).Verdict);
        // The plain cooldown (5 min) is over, the lengthened one (10 min) is not.
        clock.Advance(TimeSpan.FromMinutes(5));
        var plan = await components.Worker.PreviewAsync("hv3", CancellationToken.None);

        Assert.Equal((DecisionOutcome.NoAction, Reasons.NoMovableDomain), (plan.Single().Outcome, plan.Single().Reason));
        Assert.Contains("cooling down until " + $"{Start.AddMinutes(10):O}", plan.Single().Detail, StringComparison.Ordinal);
        Assert.Empty(hypervisor.Migrations);
    }
}
