using System.Net.Http.Json;
using Loadshift.Rebalancer.Execution;
using Loadshift.Rebalancer.Inventory;
using Loadshift.Rebalancer.Journal;
using Loadshift.Rebalancer.Planning;
using Loadshift.Rebalancer.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Loadshift.Rebalancer.Tests.Journal;

/// <summary>The journal on a real SQLite file across a "crash": an instance that dies with a migration running,
/// and a new one that opens the same file and resolves it from what libvirt reports, never by guessing.</summary>
public sealed class JournalRecoveryTests : IDisposable
{
    private static readonly MigrationPlan Plan = new("vm2", "hv1", "hv2", 0.3, 128 << 20, 0.9, 0.6, 0.1, 0.4);
    private readonly TempDirectory directory = new();
    private readonly FakeHypervisor hypervisor = new();

    private string DbPath => directory.Combine("journal.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        directory.Dispose();
    }

    /// <summary>The first process: journals the decision and the migration start, then dies.</summary>
    private async Task<long> CrashMidMigrationAsync()
    {
        var before = new Components(DbPath, hypervisor);
        await before.Journal.InitializeAsync(CancellationToken.None);
        var decision = new Decision(DecisionKind.Relief, "hv1", DecisionOutcome.Migrate, Reasons.Overloaded, "test", Plan);
        var decisionId = await before.Journal.RecordDecisionAsync(DateTimeOffset.UtcNow, decision, false, CancellationToken.None);
        var id = await before.Journal.StartMigrationAsync(DateTimeOffset.UtcNow, decisionId, DecisionKind.Relief, Plan, CancellationToken.None);
        // Gone without a goodbye: no FinishMigration, no Dispose; the pooled connections are dropped.
        SqliteConnection.ClearAllPools();
        return id;
    }

    private async Task<(Components After, MigrationRecord Migration)> RestartAsync(long id, InventoryOptions? inventory = null)
    {
        var after = new Components(DbPath, hypervisor, inventory: inventory);
        await after.Journal.InitializeAsync(CancellationToken.None);
        await after.Executor.ResolveOpenMigrationsAsync(CancellationToken.None);
        var migration = (await after.Journal.ListMigrationsAsync(null, 10, CancellationToken.None)).Items.Single(m => m.Id == id);
        return (after, migration);
    }

    [Fact]
    public async Task The_journal_is_in_WAL_mode_and_keeps_what_was_committed()
    {
        var id = await CrashMidMigrationAsync();

        using var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False");
        connection.Open();
        using var mode = connection.CreateCommand();
        mode.CommandText = "PRAGMA journal_mode;";
        Assert.Equal("wal", mode.ExecuteScalar() as string);
        var (_, migration) = await RestartAsync(id);
        Assert.Equal("vm2", migration.Domain);
    }

    [Fact]
    public async Task A_migration_cut_short_that_libvirt_shows_on_the_target_is_resolved_as_succeeded()
    {
        var id = await CrashMidMigrationAsync();
        hypervisor.Place("vm2", "hv2");

        var (after, migration) = await RestartAsync(id);

        Assert.Equal(MigrationResults.Succeeded, migration.Result);
        Assert.Equal("hv2", migration.Placement);
        Assert.Contains("resolved from libvirt", migration.Note, StringComparison.Ordinal);
        // It counts for the cooldown and for "last moved returns first".
        var history = await after.Journal.GetDomainHistoryAsync(DateTimeOffset.UtcNow.AddHours(-1), 2, CancellationToken.None);
        Assert.Equal(1, history["vm2"].RecentMigrations);
    }

    [Fact]
    public async Task A_migration_cut_short_that_libvirt_shows_on_the_source_is_resolved_as_failed()
    {
        var id = await CrashMidMigrationAsync();
        hypervisor.Place("vm2", "hv1");

        var (_, migration) = await RestartAsync(id);

        Assert.Equal(MigrationResults.Failed, migration.Result);
        Assert.Equal("hv1", migration.Placement);
    }

    [Fact]
    public async Task A_migration_cut_short_with_the_domain_shut_off_on_the_source_is_interrupted_and_placed_there()
    {
        var id = await CrashMidMigrationAsync();
        hypervisor.Presences[("hv1", "vm2")] = new DomainPresence(true, "shut off");

        var (after, migration) = await RestartAsync(id);

        // The guest is down (RebalancerMigrationInterrupted), and the journal says which host holds it.
        Assert.Equal((MigrationResults.Interrupted, "hv1"), (migration.Result, migration.Placement));
        Assert.Contains("shut off", migration.Note, StringComparison.Ordinal);
        Assert.Equal(1, await after.MigrationsAsync("interrupted"));
    }

    [Fact]
    public async Task A_domain_on_neither_host_is_looked_for_on_the_others_and_journaled_where_it_runs()
    {
        var id = await CrashMidMigrationAsync();
        hypervisor.Place("vm2", "hv3");
        var inventory = new InventoryOptions
        {
            Hosts =
            [
                new InventoryHost { Name = "hv1", LibvirtUri = "qemu+tcp://10.0.0.1/system", CpuCapacity = 2 },
                new InventoryHost { Name = "hv2", LibvirtUri = "qemu+tcp://10.0.0.2/system", CpuCapacity = 2 },
                new InventoryHost { Name = "hv3", LibvirtUri = "qemu+tcp://10.0.0.3/system", CpuCapacity = 2 },
            ],
        };

        var (_, migration) = await RestartAsync(id, inventory);

        Assert.Equal((MigrationResults.Failed, "hv3"), (migration.Result, migration.Placement));
    }

    [Fact]
    public async Task A_migration_to_a_host_taken_out_of_the_inventory_is_resolved_from_the_hosts_that_remain()
    {
        var before = new Components(DbPath, hypervisor);
        await before.Journal.InitializeAsync(CancellationToken.None);
        var id = await before.Journal.StartMigrationAsync(DateTimeOffset.UtcNow, null, DecisionKind.Relief, Plan with { Target = "hv9" }, CancellationToken.None);
        SqliteConnection.ClearAllPools();
        hypervisor.Place("vm2", "hv1");

        var (after, migration) = await RestartAsync(id);

        Assert.Equal((MigrationResults.Failed, "hv1"), (migration.Result, migration.Placement));
        Assert.Contains("hv9 is no longer in the inventory", migration.Note, StringComparison.Ordinal);
        Assert.Empty(await after.Journal.GetRunningMigrationsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_timed_out_migration_to_a_host_taken_out_of_the_inventory_stays_timed_out()
    {
        var before = new Components(DbPath, hypervisor);
        await before.Journal.InitializeAsync(CancellationToken.None);
        var id = await before.Journal.StartMigrationAsync(DateTimeOffset.UtcNow, null, DecisionKind.Relief, Plan with { Target = "hv9" }, CancellationToken.None);
        await before.Journal.RecordAttemptAsync(id, -1, timedOut: true, "", "virsh timed out (domjobabort sent); placement unclear", CancellationToken.None);
        SqliteConnection.ClearAllPools();
        hypervisor.Place("vm2", "hv1");

        var (after, migration) = await RestartAsync(id);

        Assert.Equal((MigrationResults.TimedOut, "hv1", true), (migration.Result, migration.Placement, migration.TimedOut));
        Assert.Equal(1, await after.MigrationsAsync("timed_out"));
    }

    [Fact]
    public async Task A_domain_no_host_has_is_journaled_as_interrupted_and_counted()
    {
        var id = await CrashMidMigrationAsync();

        var (after, migration) = await RestartAsync(id);

        Assert.Equal(MigrationResults.Interrupted, migration.Result);
        Assert.Null(migration.Placement);
        Assert.Equal(1, await after.MigrationsAsync("interrupted"));
    }

    [Fact]
    public async Task A_migration_finished_while_a_pass_was_asking_libvirt_is_journaled_and_counted_once()
    {
        var id = await CrashMidMigrationAsync();
        hypervisor.Place("vm2", "hv2");
        var after = new Components(DbPath, hypervisor);
        await after.Journal.InitializeAsync(CancellationToken.None);
        var slow = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        hypervisor.NextPresenceHold = slow;

        // The first look reads the row as running, then waits for libvirt; meanwhile another resolves it.
        var first = after.Executor.ResolveOpenMigrationsAsync(CancellationToken.None);
        var second = await after.Executor.ResolveOpenMigrationsAsync(CancellationToken.None);
        slow.SetResult();

        Assert.Equal(1, second + await first);
        Assert.Equal(1, await after.MigrationsAsync("succeeded"));
        var migration = (await after.Journal.ListMigrationsAsync(null, 10, CancellationToken.None)).Items.Single(m => m.Id == id);
        Assert.Equal(1, migration.Note!.Split("resolved from libvirt").Length - 1);
    }

    [Fact]
    public async Task While_a_host_does_not_answer_the_migration_stays_open_and_is_resolved_later()
    {
        var id = await CrashMidMigrationAsync();
        hypervisor.Place("vm2", "hv2");
        hypervisor.Unreachable.Add("hv2");

        var (after, migration) = await RestartAsync(id);
        Assert.Equal(MigrationResults.Running, migration.Result);

        hypervisor.Unreachable.Clear();
        Assert.Equal(1, await after.Executor.ResolveOpenMigrationsAsync(CancellationToken.None));
        Assert.Empty(await after.Journal.GetRunningMigrationsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_journal_written_before_the_later_columns_gets_them_and_keeps_its_rows()
    {
        // The tables as the first release wrote them, with a migration left open and an alert firing.
        using (var old = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            old.Open();
            using var create = old.CreateCommand();
            create.CommandText = """
                CREATE TABLE webhook_receipts (id INTEGER PRIMARY KEY, received_at TEXT NOT NULL, group_key TEXT, status TEXT, receiver TEXT,
                    alert_count INTEGER NOT NULL, body TEXT NOT NULL);
                CREATE TABLE alerts (fingerprint TEXT PRIMARY KEY, alertname TEXT, host TEXT, action TEXT, status TEXT NOT NULL,
                    starts_at TEXT, ends_at TEXT, first_received_at TEXT NOT NULL, last_received_at TEXT NOT NULL, last_receipt_id INTEGER, labels TEXT);
                CREATE TABLE migrations (id INTEGER PRIMARY KEY, decision_id INTEGER, domain TEXT NOT NULL, source TEXT NOT NULL,
                    target TEXT NOT NULL, kind TEXT, started_at TEXT NOT NULL, ended_at TEXT, outcome TEXT NOT NULL, exit_code INTEGER,
                    stderr TEXT, placement TEXT, note TEXT);
                INSERT INTO webhook_receipts VALUES (1, '2026-11-22T02:00:00.0000000Z', 'g', 'firing', 'rebalancer', 1, '{}');
                INSERT INTO alerts VALUES ('fp', 'HypervisorCpuHigh', 'hv1', 'rebalance', 'firing', '2026-11-22T02:00:00.0000000Z', NULL,
                    '2026-11-22T02:00:00.0000000Z', '2026-11-22T02:00:00.0000000Z', 1, '{}');
                INSERT INTO migrations (id, domain, source, target, started_at, outcome) VALUES (7, 'vm2', 'hv1', 'hv2', '2026-11-22T02:00:01.0000000Z', 'running');
                """;
            create.ExecuteNonQuery();
        }

        var journal = new Components(DbPath, hypervisor).Journal;
        await journal.InitializeAsync(CancellationToken.None);
        await journal.InitializeAsync(CancellationToken.None);

        Assert.Equal((7, false), (await journal.GetRunningMigrationsAsync(CancellationToken.None)).Select(m => ((int)m.Id, m.TimedOut)).Single());
        Assert.Equal(0, (await journal.ListReceiptsAsync(null, 1, CancellationToken.None)).Items.Single().TruncatedAlerts);
        var expired = Assert.Single(await journal.ExpireAlertsAsync(new DateTimeOffset(2026, 11, 22, 3, 0, 0, TimeSpan.Zero), TimeSpan.FromMinutes(20), CancellationToken.None));
        Assert.Equal("resolved", (await journal.ListAlertsAsync(CancellationToken.None)).Single().Status);
        Assert.Contains("policy.alertExpiry", expired.Note, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_transaction_open_at_the_crash_leaves_nothing_behind()
    {
        var journal = new Components(DbPath, hypervisor).Journal;
        await journal.InitializeAsync(CancellationToken.None);
        using (var dying = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            dying.Open();
            using var transaction = dying.BeginTransaction();
            using var insert = dying.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = "INSERT INTO homes (domain, home_host, origin, recorded_at) VALUES ('ghost', 'hv9', 'x', 'x');";
            insert.ExecuteNonQuery();
            // Closed without a commit, as a killed process would.
        }

        var homes = await journal.GetHomesAsync(CancellationToken.None);

        Assert.False(homes.ContainsKey("ghost"));
    }

    [Fact]
    public async Task Home_hosts_from_the_inventory_win_over_first_sightings_and_survive_a_restart()
    {
        var journal = new Components(DbPath, hypervisor).Journal;
        await journal.InitializeAsync(CancellationToken.None);
        await journal.SetHomesAsync([("vm1", "hv2")], "first_seen", overwrite: false, DateTimeOffset.UtcNow, CancellationToken.None);
        await journal.SetHomesAsync([("vm1", "hv1")], "inventory", overwrite: true, DateTimeOffset.UtcNow, CancellationToken.None);
        await journal.SetHomesAsync([("vm1", "hv3")], "first_seen", overwrite: false, DateTimeOffset.UtcNow, CancellationToken.None);
        SqliteConnection.ClearAllPools();

        var reopened = new Components(DbPath, hypervisor).Journal;
        await reopened.InitializeAsync(CancellationToken.None);
        var home = (await reopened.GetHomesAsync(CancellationToken.None))["vm1"];

        Assert.Equal(("hv1", "inventory"), (home.HomeHost, home.Origin));
    }

    [Fact]
    public async Task Maintenance_survives_a_restart()
    {
        var journal = new Components(DbPath, hypervisor).Journal;
        await journal.InitializeAsync(CancellationToken.None);
        await journal.SetMaintenanceAsync("hv2", true, DateTimeOffset.UtcNow, "api", CancellationToken.None);
        SqliteConnection.ClearAllPools();

        var reopened = new Components(DbPath, hypervisor).Journal;
        await reopened.InitializeAsync(CancellationToken.None);

        Assert.Contains("hv2", await reopened.GetMaintenanceAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Pages_run_newest_first_and_chain()
    {
        var journal = new Components(DbPath, hypervisor).Journal;
        await journal.InitializeAsync(CancellationToken.None);
        for (var i = 0; i < 5; i++)
        {
            await journal.RecordDecisionAsync(DateTimeOffset.UtcNow, Decision.NoAction(DecisionKind.Relief, $"hv{i}", Reasons.NotOverloaded, "x"), false, CancellationToken.None);
        }

        var first = await journal.ListDecisionsAsync(null, 2, CancellationToken.None);
        var second = await journal.ListDecisionsAsync(first.NextBefore, 2, CancellationToken.None);
        var last = await journal.ListDecisionsAsync(second.NextBefore, 2, CancellationToken.None);

        Assert.Equal(["hv4", "hv3"], first.Items.Select(d => d.Host));
        Assert.Equal(["hv2", "hv1"], second.Items.Select(d => d.Host));
        Assert.Equal(["hv0"], last.Items.Select(d => d.Host));
        Assert.Null(last.NextBefore);
    }
}

/// <summary>The whole service started on a journal left behind by a crash: the start resolves it, or holds it open
/// while libvirt cannot say where the domain is.</summary>
public sealed class StartupRecoveryTests : IDisposable
{
    private readonly RebalancerFactory factory = new();

    public void Dispose() => factory.Dispose();

    /// <summary>A process that died while vm2 went from hv1 to hv3.</summary>
    private async Task<long> LeftRunningByACrashAsync()
    {
        var before = new Components(factory.JournalPath, factory.Hypervisor);
        await before.Journal.InitializeAsync(CancellationToken.None);
        var id = await before.Journal.StartMigrationAsync(DateTimeOffset.UtcNow.AddMinutes(-1), null, DecisionKind.Relief,
            new MigrationPlan("vm2", "hv1", "hv3", 0.3, 128 << 20, 0.9, 0.6, 0.1, 0.4), CancellationToken.None);
        SqliteConnection.ClearAllPools();
        return id;
    }

    [Fact]
    public async Task At_start_a_migration_cut_short_by_a_crash_is_resolved_from_libvirt()
    {
        var id = await LeftRunningByACrashAsync();
        // Meanwhile libvirt finished the move.
        factory.Hypervisor.Place("vm2", "hv3");

        using var client = factory.CreateAuthorizedClient();

        var migrations = (await Webhook.WebhookContractTests.JournalAsync(client, "migrations")).GetProperty("items");
        var resolved = migrations.EnumerateArray().Single(m => m.GetProperty("id").GetInt64() == id);
        Assert.Equal("succeeded", resolved.GetProperty("outcome").GetString());
        Assert.Equal("hv3", resolved.GetProperty("placement").GetString());
        var status = await client.GetFromJsonAsync<System.Text.Json.JsonElement>(new Uri("/api/v1/status", UriKind.Relative));
        Assert.Equal("vm2", status.GetProperty("domainsAwayFromHome")[0].GetProperty("domain").GetString());
    }

    [Fact]
    public async Task A_migration_left_open_shows_in_flight_in_the_status_and_holds_further_moves()
    {
        await LeftRunningByACrashAsync();
        factory.Hypervisor.Unreachable.Add("hv3");

        using var client = factory.CreateAuthorizedClient();
        (await client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative), new StringContent(
            File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Payloads", "firing-hv1.json")), System.Text.Encoding.UTF8, "application/json"))).Dispose();

        var status = await client.GetFromJsonAsync<System.Text.Json.JsonElement>(new Uri("/api/v1/status", UriKind.Relative));
        var open = Assert.Single(status.GetProperty("migrationsInFlight").EnumerateArray());
        Assert.Equal(("vm2", "hv3"), (open.GetProperty("domain").GetString(), open.GetProperty("target").GetString()));
        Assert.Contains("\nrebalancer_migrations_in_flight 1\n", await client.GetStringAsync(new Uri("/metrics", UriKind.Relative)), StringComparison.Ordinal);
        await Task.Delay(300);
        Assert.Empty(factory.Hypervisor.Migrations);
    }
}

public sealed class JournalRetentionTests : IDisposable
{
    private readonly TempDirectory directory = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        directory.Dispose();
    }

    [Fact]
    public async Task Old_receipts_go_and_the_alert_state_stays()
    {
        var journal = new Components(directory.Combine("journal.db"), new FakeHypervisor()).Journal;
        await journal.InitializeAsync(CancellationToken.None);
        var old = DateTimeOffset.UtcNow.AddDays(-40);
        var alert = new AlertUpdate("fp", "HypervisorCpuHigh", "hv1", "rebalance", "firing", old, null, "{}");
        await journal.RecordWebhookAsync(old, "g", "firing", "rebalancer", "{}", 0, [alert], CancellationToken.None);
        await journal.RecordWebhookAsync(DateTimeOffset.UtcNow, "g", "firing", "rebalancer", "{}", 0, [alert], CancellationToken.None);

        Assert.Equal(1, await journal.PruneReceiptsAsync(DateTimeOffset.UtcNow.AddDays(-30), CancellationToken.None));

        Assert.Single((await journal.ListReceiptsAsync(null, 10, CancellationToken.None)).Items);
        Assert.Single(await journal.GetFiringAlertsAsync("HypervisorCpuHigh", DateTimeOffset.UtcNow.AddDays(-1), CancellationToken.None));
    }
}
