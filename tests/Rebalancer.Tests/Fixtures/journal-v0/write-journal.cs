// Writes a journal with the release's own SqliteJournal (run by ./generate inside a copy of that release's
// tree; the #:project path is relative to that copy, not to this folder). Fixed times, so that a rerun gives
// the same rows.
#:project src/Rebalancer/Rebalancer.csproj
using Loadshift.Rebalancer.Inventory;
using Loadshift.Rebalancer.Journal;
using Loadshift.Rebalancer.Metrics;
using Loadshift.Rebalancer.Planning;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

var path = args[0];
var none = CancellationToken.None;
var t0 = new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
using var journal = new SqliteJournal(Options.Create(new JournalOptions { Path = path }), new RebalancerMetrics());
await journal.InitializeAsync(none);
await journal.SetHomesAsync([("vm1", "hv1"), ("vm2", "hv1"), ("vm3", "hv1")], "inventory", overwrite: true, t0, none);
await journal.SetHomesAsync([("vm4", "hv2")], "first_seen", overwrite: false, t0, none);

const string Firing = """{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"HypervisorCpuHigh","host":"hv1","action":"rebalance"},"fingerprint":"a1b2c3d4e5f60718"}]}""";
const string Resolved = """{"version":"4","status":"resolved","alerts":[{"status":"resolved","labels":{"alertname":"HypervisorCpuHigh","host":"hv1","action":"rebalance"},"fingerprint":"a1b2c3d4e5f60718"}]}""";
const string Labels = """{"alertname":"HypervisorCpuHigh","host":"hv1","action":"rebalance"}""";
await journal.RecordWebhookAsync(t0.AddMinutes(1), "{}:{host=\"hv1\"}", "firing", "rebalancer", Firing, 0,
    [new AlertUpdate("a1b2c3d4e5f60718", "HypervisorCpuHigh", "hv1", "rebalance", "firing", t0, null, Labels)], none);

// Relief: vm3 hv1 -> hv3, succeeded.
var relief = new MigrationPlan("vm3", "hv1", "hv3", 0.30, 512L << 20, 0.90, 0.60, 0.10, 0.40);
var reliefId = await journal.RecordDecisionAsync(t0.AddMinutes(1.5),
    new Decision(DecisionKind.Relief, "hv1", DecisionOutcome.Migrate, Reasons.Overloaded, "hv1 at 0.90 over 0.80: vm3 to hv3 (0.10 -> 0.40)", relief), false, none);
var m1 = await journal.StartMigrationAsync(t0.AddMinutes(1.5), reliefId, DecisionKind.Relief, relief, none);
await journal.FinishMigrationAsync(m1, t0.AddMinutes(2), MigrationOutcomes.Succeeded, 0, false, "", "hv3", null, none);

// A no-action while hv1 settles, then a second relief that failed.
await journal.RecordDecisionAsync(t0.AddMinutes(2.5),
    Decision.NoAction(DecisionKind.Relief, "hv1", Reasons.Settling, "a migration touched hv1 until 10:02"), false, none);
var second = new MigrationPlan("vm2", "hv1", "hv2", 0.20, 512L << 20, 0.85, 0.65, 0.20, 0.40);
var secondId = await journal.RecordDecisionAsync(t0.AddMinutes(5),
    new Decision(DecisionKind.Relief, "hv1", DecisionOutcome.Migrate, Reasons.Overloaded, "hv1 at 0.85 over 0.80: vm2 to hv2 (0.20 -> 0.40)", second), false, none);
var m2 = await journal.StartMigrationAsync(t0.AddMinutes(5), secondId, DecisionKind.Relief, second, none);
await journal.FinishMigrationAsync(m2, t0.AddMinutes(5.5), MigrationOutcomes.Failed, 1, false,
    "error: operation failed: migration job: unexpectedly failed", "hv1", "virsh failed; libvirt shows vm2 on hv1", none);

await journal.RecordWebhookAsync(t0.AddMinutes(9), "{}:{host=\"hv1\"}", "resolved", "rebalancer", Resolved, 0,
    [new AlertUpdate("a1b2c3d4e5f60718", "HypervisorCpuHigh", "hv1", "rebalance", "resolved", t0, t0.AddMinutes(8.5), Labels)], none);

// Return home: vm3 hv3 -> hv1, succeeded.
var back = new MigrationPlan("vm3", "hv3", "hv1", 0.30, 512L << 20, 0.40, 0.10, 0.20, 0.45);
var backId = await journal.RecordDecisionAsync(t0.AddMinutes(15),
    new Decision(DecisionKind.ReturnHome, "hv1", DecisionOutcome.Migrate, Reasons.ReturnHome, "hv1 calm at 0.20: vm3 back home (0.20 -> 0.45)", back), false, none);
var m3 = await journal.StartMigrationAsync(t0.AddMinutes(15), backId, DecisionKind.ReturnHome, back, none);
await journal.FinishMigrationAsync(m3, t0.AddMinutes(15.5), MigrationOutcomes.Succeeded, 0, false, "", "hv1", null, none);

await journal.SetMaintenanceAsync("hv2", true, t0.AddMinutes(20), "api", none);
SqliteConnection.ClearAllPools();
Console.WriteLine($"{path}: 3 decisions with a migration, 1 without, 3 migrations, 2 receipts, 1 alert, 4 homes, 1 host in maintenance");
