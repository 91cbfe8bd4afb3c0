using System.Text.Json;
using Loadshift.Rebalancer.Journal;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace Loadshift.Faults.Tests;

[CollectionDefinition(Name)]
public sealed class UpgradeGroup : ICollectionFixture<FullLoop>
{
    public const string Name = "upgrade";
}

/// <summary>Issue 13 item 11: the Rebalancer stopped, its journal replaced by one release 3bbc5d8 wrote
/// (tests/Testing's JournalFixtures.V0, schema version 0), this release started on it: the history is all there
/// through the API, the schema is brought to this release's version, and the next migration is journaled after it.</summary>
[Trait("Category", "Lab")]
[Collection(UpgradeGroup.Name)]
public sealed class UpgradeTests(FullLoop loop, ITestOutputHelper output)
{
    [Fact]
    public async Task A_journal_of_release_3bbc5d8_is_opened_with_its_history_and_the_next_migration_follows_it()
    {
        var run = new FaultRun(loop, output);
        await run.EveryVmHomeAsync(TimeSpan.FromMinutes(3));
        await loop.StopRebalancerAsync();
        foreach (var file in Directory.GetFiles(loop.JournalDirectory, "rebalancer.db*"))
        {
            File.Delete(file);
        }
        JournalFixtures.CopyV0(loop.JournalDirectory, Path.GetFileName(loop.Journal));
        var stopped = DateTimeOffset.UtcNow;
        loop.StartRebalancer();
        await loop.WaitForRebalancerAsync();
        var startSeconds = (DateTimeOffset.UtcNow - stopped).TotalSeconds;

        // The old release's history, as it wrote it.
        var old = (await loop.MigrationsAsync()).OrderBy(m => m.Id).ToList();
        Assert.Equal(["vm3 hv1->hv3 succeeded", "vm2 hv1->hv2 failed", "vm3 hv3->hv1 succeeded"],
            old.Select(m => $"{m.Domain} {m.Source}->{m.Target} {m.Result}"));
        Assert.Contains(old, m => m.Result == MigrationResults.Failed && !string.IsNullOrEmpty(m.Stderr));
        // The fixture's rows are all of 2026-12-01; this release's first passes add decisions of today.
        Assert.Equal(4, await OldRowsAsync("decisions", "at", stopped));
        Assert.Equal(2, await OldRowsAsync("receipts", "receivedAt", stopped));
        Assert.True(UserVersion(loop.Journal) > 0, "the journal's schema version was not raised");

        // The old journal had hv2 in maintenance (through the API): still so, until taken back.
        using (var status = JsonDocument.Parse(await loop.Http.GetStringAsync(new Uri($"{loop.RebalancerUrl}/api/v1/status"))))
        {
            Assert.Contains(status.RootElement.GetProperty("hosts").EnumerateArray(),
                h => h.GetProperty("name").GetString() == "hv2" && h.GetProperty("maintenance").GetBoolean());
        }
        await loop.SetMaintenanceAsync("hv2", drain: false);

        // The next migration is journaled after the history.
        var next = await run.MigrationInFlightAsync(waitForJob: false);
        Assert.True(next.Id > old.Max(m => m.Id), $"migration {next.Id} after the history's {old.Max(m => m.Id)}");
        var (seconds, moves) = await run.RecoveredAsync(DateTimeOffset.UtcNow);
        var sees = await run.AlertsAsExpectedAsync(moves);
        Assert.Equal(3, (await loop.MigrationsAsync()).Count(m => m.Id <= old.Max(o => o.Id)));
        await run.FinishAsync("11. upgrade: release 3bbc5d8's journal (schema 0) opened by this release",
            $"started in {startSeconds:0.0} s on it, schema raised; the 3 old migrations, 4 decisions, 2 receipts and hv2's maintenance kept; then {FaultRun.Results(moves)}",
            sees, seconds, "nothing");
    }

    private async Task<int> OldRowsAsync(string kind, string time, DateTimeOffset before)
    {
        using var page = JsonDocument.Parse(await loop.Http.GetStringAsync(new Uri($"{loop.RebalancerUrl}/api/v1/journal?kind={kind}&limit=500")));
        return page.RootElement.GetProperty("items").EnumerateArray().Count(r => r.GetProperty(time).GetDateTimeOffset() < before);
    }

    private static long UserVersion(string journal)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = journal, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA user_version;";
        return (long)command.ExecuteScalar()!;
    }
}
