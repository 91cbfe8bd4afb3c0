using System.Security.Cryptography;
using Loadshift.Rebalancer.Journal;
using Loadshift.Rebalancer.Tests.Support;
using Loadshift.Testing;
using Microsoft.Data.Sqlite;

namespace Loadshift.Rebalancer.Tests.Journal;

/// <summary>The journal's schema versions on real SQLite files: a new file, a journal written by release 3bbc5d8
/// (version 0, Fixtures/journal-v0), and a file from a newer Rebalancer.</summary>
public sealed class JournalSchemaTests : IDisposable
{
    private readonly TempDirectory directory = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        directory.Dispose();
    }

    private static SqliteJournal Journal(string path) => new Components(path, new FakeHypervisor()).Journal;

    private static int UserVersion(string path)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False;Mode=ReadOnly");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA user_version;";
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public void The_steps_are_numbered_one_by_one_from_1()
    {
        Assert.Equal(Enumerable.Range(1, JournalSchema.Steps.Count), JournalSchema.Steps.Select(s => s.Version));
        Assert.Equal(JournalSchema.Steps.Count, JournalSchema.Version);
    }

    [Fact]
    public async Task A_new_file_gets_every_step_once_and_records_the_version()
    {
        var path = directory.Combine("new.db");

        var first = await Journal(path).InitializeAsync(CancellationToken.None);
        SqliteConnection.ClearAllPools();
        var again = await Journal(path).InitializeAsync(CancellationToken.None);

        Assert.Equal(JournalSchema.Steps, first);
        Assert.Empty(again);
        Assert.Equal(JournalSchema.Version, UserVersion(path));
    }

    [Fact]
    public async Task The_journal_of_release_3bbc5d8_opens_migrated_with_its_history_kept()
    {
        var path = JournalFixtures.CopyV0(directory.Path);
        Assert.Equal(0, UserVersion(path));

        var journal = Journal(path);
        var applied = await journal.InitializeAsync(CancellationToken.None);

        Assert.Equal(JournalSchema.Steps.Select(s => s.Version), applied.Select(s => s.Version));
        Assert.Equal(JournalSchema.Version, UserVersion(path));
        var decisions = (await journal.ListDecisionsAsync(null, 50, CancellationToken.None)).Items;
        Assert.Equal(["return_home", "relief", "relief", "relief"], decisions.Select(d => d.Kind));
        Assert.Equal(["migrate", "migrate", "no_action", "migrate"], decisions.Select(d => d.Outcome));
        Assert.Equal(0.60, decisions[^1].SourceBusyAfter);
        var migrations = (await journal.ListMigrationsAsync(null, 50, CancellationToken.None)).Items;
        Assert.Equal([("vm3", "succeeded", "return_home"), ("vm2", "failed", "overloaded"), ("vm3", "succeeded", "overloaded")],
            migrations.Select(m => (m.Domain, m.Result, m.Reason)));
        Assert.Contains("unexpectedly failed", migrations[1].Stderr, StringComparison.Ordinal);
        Assert.Equal(["hv1", "hv1", "hv1", "hv2"], (await journal.GetHomesAsync(CancellationToken.None)).Values.OrderBy(h => h.Domain).Select(h => h.HomeHost));
        Assert.Equal(["hv2"], await journal.GetMaintenanceAsync(CancellationToken.None));
        Assert.Equal("resolved", Assert.Single(await journal.ListAlertsAsync(CancellationToken.None)).Status);
        Assert.Equal(2, (await journal.ListReceiptsAsync(null, 50, CancellationToken.None)).Items.Count);
        var history = await journal.GetDomainHistoryAsync(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero), 2, CancellationToken.None);
        Assert.Equal(2, history["vm3"].RecentMigrations);
        // Moves from before verification have no verdict, and lengthen no cooldown.
        Assert.All(migrations, m => Assert.Null(m.Verdict));
        Assert.Equal(1, history["vm3"].CooldownFactor);
        // And it takes new rows after the old ones.
        await journal.SetMaintenanceAsync("hv2", false, DateTimeOffset.UtcNow, null, CancellationToken.None);
        Assert.Empty(await journal.GetMaintenanceAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_journal_from_a_newer_Rebalancer_is_refused_naming_both_versions_and_left_unchanged()
    {
        var path = JournalFixtures.CopyV0(directory.Path);
        var newer = JournalSchema.Version + 1;
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"PRAGMA user_version = {newer};";
            command.ExecuteNonQuery();
        }
        var before = SHA256.HashData(await File.ReadAllBytesAsync(path));

        var error = await Assert.ThrowsAsync<JournalVersionException>(() => Journal(path).InitializeAsync(CancellationToken.None));
        SqliteConnection.ClearAllPools();

        Assert.Contains($"schema version {newer}", error.Message, StringComparison.Ordinal);
        Assert.Contains($"versions up to {JournalSchema.Version}", error.Message, StringComparison.Ordinal);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Equal(before, SHA256.HashData(await File.ReadAllBytesAsync(path)));
        Assert.Equal(newer, UserVersion(path));
    }

    [Fact]
    public async Task A_step_that_fails_leaves_the_file_at_the_step_before_with_nothing_of_it()
    {
        var path = directory.Combine("failing.db");
        static Func<SqliteConnection, CancellationToken, Task> Sql(string sql) => async (connection, cancellationToken) =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            await command.ExecuteNonQueryAsync(cancellationToken);
        };
        SchemaStep[] steps =
        [
            new(1, "a table", Sql("CREATE TABLE one (id INTEGER);")),
            new(2, "a table, then a mistake", Sql("CREATE TABLE two (id INTEGER); ALTER TABLE nowhere ADD COLUMN x TEXT;")),
        ];
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();

            await Assert.ThrowsAsync<SqliteException>(() => JournalSchema.MigrateAsync(connection, path, steps, CancellationToken.None));
        }

        Assert.Equal(1, UserVersion(path));
        using var check = new SqliteConnection($"Data Source={path};Pooling=False;Mode=ReadOnly");
        check.Open();
        using var tables = check.CreateCommand();
        tables.CommandText = "SELECT group_concat(name) FROM sqlite_master WHERE type = 'table';";
        Assert.Equal("one", tables.ExecuteScalar());
    }

    [Fact]
    public async Task A_journal_used_before_it_was_migrated_says_so()
    {
        var journal = Journal(directory.Combine("unopened.db"));

        await Assert.ThrowsAsync<InvalidOperationException>(() => journal.GetMaintenanceAsync(CancellationToken.None));
    }
}
