using Microsoft.Data.Sqlite;

namespace Loadshift.Rebalancer.Journal;

/// <summary>One numbered change of the journal's schema: it takes a file from <c>Version - 1</c> to <c>Version</c>.</summary>
/// <param name="Description">What the step adds, for the start-up log.</param>
public sealed record SchemaStep(int Version, string Description, Func<SqliteConnection, CancellationToken, Task> Apply);

/// <summary>The journal's schema as numbered steps. The version a file is at lives in SQLite's <c>PRAGMA
/// user_version</c> (0 in a new file, and in every journal written before the steps: release 3bbc5d8 and earlier).
/// Each step runs in a transaction of its own, which also sets user_version, so a crash leaves the file at the
/// last complete step. A new step goes at the end; a released step never changes.</summary>
public static class JournalSchema
{
    /// <summary>The tables of release 3bbc5d8. CREATE TABLE IF NOT EXISTS leaves a table of an earlier release as it
    /// is, so the columns added after the first release are added where missing.</summary>
    private const string Baseline = """
        CREATE TABLE IF NOT EXISTS webhook_receipts (
            id INTEGER PRIMARY KEY, received_at TEXT NOT NULL, group_key TEXT, status TEXT, receiver TEXT,
            alert_count INTEGER NOT NULL, body TEXT NOT NULL, truncated_alerts INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE IF NOT EXISTS alerts (
            fingerprint TEXT PRIMARY KEY, alertname TEXT, host TEXT, action TEXT, status TEXT NOT NULL,
            starts_at TEXT, ends_at TEXT, first_received_at TEXT NOT NULL, last_received_at TEXT NOT NULL,
            last_receipt_id INTEGER, labels TEXT, note TEXT);
        CREATE TABLE IF NOT EXISTS decisions (
            id INTEGER PRIMARY KEY, at TEXT NOT NULL, kind TEXT NOT NULL, host TEXT NOT NULL, outcome TEXT NOT NULL,
            reason TEXT NOT NULL, detail TEXT NOT NULL, dry_run INTEGER NOT NULL, domain TEXT, source TEXT, target TEXT,
            domain_share REAL, source_busy_before REAL, source_busy_after REAL, target_busy_before REAL, target_busy_after REAL);
        CREATE INDEX IF NOT EXISTS decisions_kind_host ON decisions (kind, host, at);
        CREATE TABLE IF NOT EXISTS migrations (
            id INTEGER PRIMARY KEY, decision_id INTEGER REFERENCES decisions (id), domain TEXT NOT NULL,
            source TEXT NOT NULL, target TEXT NOT NULL, kind TEXT, started_at TEXT NOT NULL, ended_at TEXT,
            outcome TEXT NOT NULL, exit_code INTEGER, stderr TEXT, placement TEXT, note TEXT,
            timed_out INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX IF NOT EXISTS migrations_domain ON migrations (domain, started_at);
        CREATE TABLE IF NOT EXISTS homes (
            domain TEXT PRIMARY KEY, home_host TEXT NOT NULL, origin TEXT NOT NULL, recorded_at TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS maintenance (host TEXT PRIMARY KEY, since TEXT NOT NULL, reason TEXT);
        """;

    /// <summary>Columns the releases before 3bbc5d8 added one by one, without a version.</summary>
    private static readonly (string Table, string Column, string Definition)[] BaselineColumns =
    [
        ("webhook_receipts", "truncated_alerts", "INTEGER NOT NULL DEFAULT 0"),
        ("alerts", "note", "TEXT"),
        ("migrations", "timed_out", "INTEGER NOT NULL DEFAULT 0"),
    ];

    public static IReadOnlyList<SchemaStep> Steps { get; } =
    [
        new(1, "tables of release 3bbc5d8 (receipts, alerts, decisions, migrations, homes, maintenance)", ApplyBaselineAsync),
        new(2, "migrations: the move's verdict from Prometheus (verdict, verified_at, source_busy_observed, target_busy_observed, verdict_detail)",
            (connection, cancellationToken) => ExecuteAsync(connection, """
                ALTER TABLE migrations ADD COLUMN verdict TEXT;
                ALTER TABLE migrations ADD COLUMN verified_at TEXT;
                ALTER TABLE migrations ADD COLUMN source_busy_observed REAL;
                ALTER TABLE migrations ADD COLUMN target_busy_observed REAL;
                ALTER TABLE migrations ADD COLUMN verdict_detail TEXT;
                """, cancellationToken)),
        new(3, "migrations.outcome renamed result (docs/glossary.md: a migration has a result, a decision an outcome)",
            (connection, cancellationToken) => ExecuteAsync(connection, "ALTER TABLE migrations RENAME COLUMN outcome TO result;", cancellationToken)),
    ];

    /// <summary>The version this code writes: the last step's.</summary>
    public static int Version => Steps[^1].Version;

    /// <summary>Brings the file to <see cref="Version"/>, one step per transaction; returns the steps applied. A file
    /// from a newer version is refused before anything is written to it.</summary>
    /// <exception cref="JournalVersionException">The file is at a version this code does not know.</exception>
    public static Task<IReadOnlyList<SchemaStep>> MigrateAsync(SqliteConnection connection, string path, CancellationToken cancellationToken) =>
        MigrateAsync(connection, path, Steps, cancellationToken);

    /// <summary>With other steps than the journal's (tests: a step that fails).</summary>
    internal static async Task<IReadOnlyList<SchemaStep>> MigrateAsync(SqliteConnection connection, string path, IReadOnlyList<SchemaStep> steps,
        CancellationToken cancellationToken)
    {
        var known = steps[^1].Version;
        var found = await UserVersionAsync(connection, cancellationToken).ConfigureAwait(false);
        if (found > known)
        {
            throw new JournalVersionException(path, found, known);
        }
        var applied = new List<SchemaStep>();
        foreach (var step in steps.Where(s => s.Version > found))
        {
            // IMMEDIATE: the write lock first, so two processes starting on one file apply each step once.
            await using var transaction = connection.BeginTransaction(deferred: false);
            var now = await UserVersionAsync(connection, cancellationToken).ConfigureAwait(false);
            if (now > known)
            {
                throw new JournalVersionException(path, now, known);
            }
            if (now >= step.Version)
            {
                continue;
            }
            await step.Apply(connection, cancellationToken).ConfigureAwait(false);
            await using (var set = connection.CreateCommand())
            {
                // PRAGMA takes no parameters; the number is the step's own constant.
                set.CommandText = $"PRAGMA user_version = {step.Version};";
                await set.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            applied.Add(step);
        }
        return applied;
    }

    /// <summary>The version a journal file is at (its user_version).</summary>
    public static async Task<int> UserVersionAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        // CreateCommand enlists the command in the connection's transaction, if one is open.
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA user_version;";
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task ApplyBaselineAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        await ExecuteAsync(connection, Baseline, cancellationToken).ConfigureAwait(false);
        foreach (var (table, column, definition) in BaselineColumns)
        {
            await AddColumnAsync(connection, table, column, definition, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Adds a column unless the table has it.</summary>
    private static async Task AddColumnAsync(SqliteConnection connection, string table, string column, string definition, CancellationToken cancellationToken)
    {
        await using var has = connection.CreateCommand();
        has.CommandText = "SELECT COUNT(*) FROM pragma_table_info($table) WHERE name = $column;";
        has.Parameters.AddWithValue("$table", table);
        has.Parameters.AddWithValue("$column", column);
        if ((long)(await has.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! == 0)
        {
            // Names from the steps' constants, never from input.
            await ExecuteAsync(connection, $"ALTER TABLE {table} ADD COLUMN {column} {definition};", cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>The journal file was written by a newer Rebalancer than this one: it is left as it is.</summary>
public sealed class JournalVersionException(string path, int found, int known) : Exception(
    $"journal {path} is at schema version {found}, and this Rebalancer ({Metrics.RebalancerMetrics.Version}) knows versions up to {known}: " +
    "a newer Rebalancer wrote it. Run that version (or newer), or point journal.path at another file; this file is left unchanged.")
{
    public int Found { get; } = found;

    public int Known { get; } = known;
}
