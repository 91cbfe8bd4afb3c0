using System.Globalization;
using Loadshift.Rebalancer.Inventory;
using Loadshift.Rebalancer.Metrics;
using Loadshift.Rebalancer.Planning;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Loadshift.Rebalancer.Journal;

/// <summary>The Rebalancer's memory in one SQLite file (WAL, synchronous=FULL): webhook receipts, alert states,
/// decisions, migrations, home hosts, maintenance. What it says survives a crash once a call returned.</summary>
public sealed class SqliteJournal : IDisposable
{
    /// <summary>How long a write waits for another writer before it fails.</summary>
    private static readonly TimeSpan BusyTimeout = TimeSpan.FromSeconds(5);

    /// <summary>stderr of virsh --verbose is mostly progress lines; the tail holds the error.</summary>
    private const int MaxStderrChars = 8192;

    private readonly string connectionString;
    private readonly RebalancerMetrics metrics;
    private readonly SemaphoreSlim writeGate = new(1, 1);
    private int initialized;

    public SqliteJournal(IOptions<JournalOptions> options, RebalancerMetrics metrics)
    {
        Path = System.IO.Path.GetFullPath(options.Value.Path);
        // Default Timeout: Microsoft.Data.Sqlite retries a busy database for this long (30 s unless set).
        connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Pooling = true,
            DefaultTimeout = (int)BusyTimeout.TotalSeconds,
        }.ToString();
        this.metrics = metrics;
    }

    public string Path { get; }

    public void Dispose() => writeGate.Dispose();

    /// <summary>Creates the file, brings its schema to <see cref="JournalSchema.Version"/> (a file from a newer
    /// Rebalancer is refused untouched: <see cref="JournalVersionException"/>), and switches to WAL (persistent in the
    /// file). Returns the schema steps applied.</summary>
    public async Task<IReadOnlyList<SchemaStep>> InitializeAsync(CancellationToken cancellationToken)
    {
        if (System.IO.Path.GetDirectoryName(Path) is { Length: > 0 } directory)
        {
            Directory.CreateDirectory(directory);
        }
        var applied = await WriteAsync(async connection =>
        {
            var steps = await JournalSchema.MigrateAsync(connection, Path, cancellationToken).ConfigureAwait(false);
            await using var wal = connection.CreateCommand();
            wal.CommandText = "PRAGMA journal_mode=WAL;";
            await wal.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return steps;
        }, cancellationToken, initializing: true).ConfigureAwait(false);
        Volatile.Write(ref initialized, 1);
        return applied;
    }

    /// <summary>Journals a notification and the state of its alerts. An alert whose startsAt is older than the
    /// journaled one's is left as it is (a late delivery about an earlier firing must not resolve, or reopen, the
    /// current one); it is listed in the answer's <see cref="RecordedWebhook.Stale"/>.</summary>
    /// <param name="truncatedAlerts">Alerts of the group Alertmanager left out (webhook_configs max_alerts).</param>
    public Task<RecordedWebhook> RecordWebhookAsync(DateTimeOffset receivedAt, string? groupKey, string? status, string? receiver,
        string body, int truncatedAlerts, IReadOnlyList<AlertUpdate> alerts, CancellationToken cancellationToken) =>
        WriteAsync(async connection =>
        {
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            long receiptId;
            await using (var receipt = connection.CreateCommand())
            {
                receipt.CommandText = """
                    INSERT INTO webhook_receipts (received_at, group_key, status, receiver, alert_count, body, truncated_alerts)
                    VALUES ($at, $groupKey, $status, $receiver, $count, $body, $truncated) RETURNING id;
                    """;
                receipt.Parameters.AddWithValue("$at", Time(receivedAt));
                receipt.Parameters.AddWithValue("$groupKey", (object?)groupKey ?? DBNull.Value);
                receipt.Parameters.AddWithValue("$status", (object?)status ?? DBNull.Value);
                receipt.Parameters.AddWithValue("$receiver", (object?)receiver ?? DBNull.Value);
                receipt.Parameters.AddWithValue("$count", alerts.Count);
                receipt.Parameters.AddWithValue("$body", body);
                receipt.Parameters.AddWithValue("$truncated", truncatedAlerts);
                receiptId = (long)(await receipt.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            }
            var stale = new HashSet<string>(StringComparer.Ordinal);
            foreach (var alert in alerts)
            {
                await using var upsert = connection.CreateCommand();
                // Alertmanager repeats a group and retries failed deliveries: the fingerprint keeps one row per alert.
                upsert.CommandText = """
                    INSERT INTO alerts (fingerprint, alertname, host, action, status, starts_at, ends_at,
                                        first_received_at, last_received_at, last_receipt_id, labels)
                    VALUES ($fp, $name, $host, $action, $status, $starts, $ends, $at, $at, $receipt, $labels)
                    ON CONFLICT (fingerprint) DO UPDATE SET
                        status = excluded.status, starts_at = excluded.starts_at, ends_at = excluded.ends_at,
                        last_received_at = excluded.last_received_at, last_receipt_id = excluded.last_receipt_id,
                        labels = excluded.labels, note = NULL
                    WHERE excluded.starts_at IS NULL OR alerts.starts_at IS NULL OR excluded.starts_at >= alerts.starts_at;
                    """;
                upsert.Parameters.AddWithValue("$fp", alert.Fingerprint);
                upsert.Parameters.AddWithValue("$name", (object?)alert.AlertName ?? DBNull.Value);
                upsert.Parameters.AddWithValue("$host", (object?)alert.Host ?? DBNull.Value);
                upsert.Parameters.AddWithValue("$action", (object?)alert.Action ?? DBNull.Value);
                upsert.Parameters.AddWithValue("$status", alert.Status);
                upsert.Parameters.AddWithValue("$starts", (object?)TimeOrNull(alert.StartsAt) ?? DBNull.Value);
                upsert.Parameters.AddWithValue("$ends", (object?)TimeOrNull(alert.EndsAt) ?? DBNull.Value);
                upsert.Parameters.AddWithValue("$at", Time(receivedAt));
                upsert.Parameters.AddWithValue("$receipt", receiptId);
                upsert.Parameters.AddWithValue("$labels", alert.LabelsJson);
                if (await upsert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
                {
                    stale.Add(alert.Fingerprint);
                }
            }
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return new RecordedWebhook(receiptId, stale);
        }, cancellationToken);

    /// <summary>Alerts whose latest notification says firing, for the given alert name, and that Alertmanager re-sent
    /// since <paramref name="receivedSince"/> (older ones have expired: <see cref="ExpireAlertsAsync"/>).</summary>
    public Task<IReadOnlyList<AlertRecord>> GetFiringAlertsAsync(string alertName, DateTimeOffset receivedSince, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<AlertRecord>>(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"{AlertColumns} WHERE status = 'firing' AND alertname = $name AND last_received_at >= $since ORDER BY host, fingerprint;";
            command.Parameters.AddWithValue("$name", alertName);
            command.Parameters.AddWithValue("$since", Time(receivedSince));
            return await ReadAllAsync(command, ReadAlert, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    /// <summary>Journals as resolved, with the reason in its note, every alert still firing that Alertmanager has not
    /// re-sent for <paramref name="expiry"/> (policy.alertExpiry): Alertmanager repeats a firing alert every
    /// repeat_interval, so its resolved notification was lost (Alertmanager dropped it undelivered: restarted while the
    /// Rebalancer was down, a silence, a truncated notification). Returns the alerts it resolved.</summary>
    public Task<IReadOnlyList<AlertRecord>> ExpireAlertsAsync(DateTimeOffset now, TimeSpan expiry, CancellationToken cancellationToken) =>
        WriteAsync<IReadOnlyList<AlertRecord>>(async connection =>
        {
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            List<AlertRecord> stale;
            await using (var select = connection.CreateCommand())
            {
                select.CommandText = $"{AlertColumns} WHERE status = 'firing' AND last_received_at < $before ORDER BY fingerprint;";
                select.Parameters.AddWithValue("$before", Time(now - expiry));
                stale = await ReadAllAsync(select, ReadAlert, cancellationToken).ConfigureAwait(false);
            }
            var expired = new List<AlertRecord>(stale.Count);
            foreach (var alert in stale)
            {
                var note = $"resolved by expiry at {Time(now)}: firing, but not re-sent by Alertmanager since {Time(alert.LastReceivedAt)}, " +
                    $"longer than policy.alertExpiry ({Inventory.DurationConverter.Format(expiry)}); Alertmanager re-sends a firing alert " +
                    "every repeat_interval, so its resolved notification was lost";
                await using var update = connection.CreateCommand();
                update.CommandText = "UPDATE alerts SET status = 'resolved', note = $note WHERE fingerprint = $fp AND status = 'firing';";
                update.Parameters.AddWithValue("$fp", alert.Fingerprint);
                update.Parameters.AddWithValue("$note", note);
                await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                expired.Add(alert with { Status = "resolved", Note = note });
            }
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return expired;
        }, cancellationToken);

    public Task<long> RecordDecisionAsync(DateTimeOffset at, Decision decision, bool dryRun, CancellationToken cancellationToken) =>
        WriteAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = """
                INSERT INTO decisions (at, kind, host, outcome, reason, detail, dry_run, domain, source, target, domain_share,
                                       source_busy_before, source_busy_after, target_busy_before, target_busy_after)
                VALUES ($at, $kind, $host, $outcome, $reason, $detail, $dry, $domain, $source, $target, $share,
                        $sb, $sa, $tb, $ta) RETURNING id;
                """;
            var m = decision.Migration;
            command.Parameters.AddWithValue("$at", Time(at));
            command.Parameters.AddWithValue("$kind", KindName(decision.Kind));
            command.Parameters.AddWithValue("$host", decision.Host);
            command.Parameters.AddWithValue("$outcome", OutcomeName(decision.Outcome));
            command.Parameters.AddWithValue("$reason", decision.Reason);
            command.Parameters.AddWithValue("$detail", decision.Detail);
            command.Parameters.AddWithValue("$dry", dryRun ? 1 : 0);
            command.Parameters.AddWithValue("$domain", (object?)m?.Domain ?? DBNull.Value);
            command.Parameters.AddWithValue("$source", (object?)m?.Source ?? DBNull.Value);
            command.Parameters.AddWithValue("$target", (object?)m?.Target ?? DBNull.Value);
            command.Parameters.AddWithValue("$share", (object?)m?.DomainShare ?? DBNull.Value);
            command.Parameters.AddWithValue("$sb", (object?)m?.SourceBusyBefore ?? DBNull.Value);
            command.Parameters.AddWithValue("$sa", (object?)m?.SourceBusyAfter ?? DBNull.Value);
            command.Parameters.AddWithValue("$tb", (object?)m?.TargetBusyBefore ?? DBNull.Value);
            command.Parameters.AddWithValue("$ta", (object?)m?.TargetBusyAfter ?? DBNull.Value);
            return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }, cancellationToken);

    /// <summary>When the last decision of this kind about this host was journaled (one per host per window).</summary>
    public Task<DateTimeOffset?> GetLastDecisionAtAsync(DecisionKind kind, string host, string? exceptReason, CancellationToken cancellationToken) =>
        ScalarTimeAsync("SELECT MAX(at) FROM decisions WHERE kind = $kind AND host = $host AND reason <> $except;",
            [("$kind", KindName(kind)), ("$host", host), ("$except", exceptReason ?? "")], cancellationToken);

    /// <summary>Hosts a domain arrived on (a successful migration ended) since <paramref name="since"/>: their busy
    /// ratio may not show it yet. (A host a domain left shows too much load meanwhile, which errs on the safe side.)</summary>
    public Task<IReadOnlySet<string>> GetHostsReceivingSinceAsync(DateTimeOffset since, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlySet<string>>(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT DISTINCT target FROM migrations WHERE result = 'succeeded' AND ended_at >= $since;";
            command.Parameters.AddWithValue("$since", Time(since));
            return (await ReadAllAsync(command, r => r.GetString(0), cancellationToken).ConfigureAwait(false)).ToHashSet(StringComparer.Ordinal);
        }, cancellationToken);

    /// <summary>When the last migration from or to this host ended (its busy ratio needs time to show the move).</summary>
    public Task<DateTimeOffset?> GetLastMigrationEndAsync(string host, CancellationToken cancellationToken) =>
        ScalarTimeAsync("SELECT MAX(ended_at) FROM migrations WHERE source = $host OR target = $host;",
            [("$host", host)], cancellationToken);

    public Task<long> StartMigrationAsync(DateTimeOffset at, long? decisionId, DecisionKind kind, MigrationPlan plan, CancellationToken cancellationToken) =>
        WriteAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = """
                INSERT INTO migrations (decision_id, domain, source, target, kind, started_at, result)
                VALUES ($decision, $domain, $source, $target, $kind, $at, 'running') RETURNING id;
                """;
            command.Parameters.AddWithValue("$decision", (object?)decisionId ?? DBNull.Value);
            command.Parameters.AddWithValue("$domain", plan.Domain);
            command.Parameters.AddWithValue("$source", plan.Source);
            command.Parameters.AddWithValue("$target", plan.Target);
            command.Parameters.AddWithValue("$kind", KindName(kind));
            command.Parameters.AddWithValue("$at", Time(at));
            return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }, cancellationToken);

    /// <summary>Ends a running migration; false when it was no longer running (another look resolved it first).</summary>
    /// <param name="timedOut">virsh passed policy.migrationTimeout (the migration's own flag, whatever the result).</param>
    public Task<bool> FinishMigrationAsync(long id, DateTimeOffset endedAt, string result, int? exitCode, bool timedOut, string? stderr,
        string? placement, string? note, CancellationToken cancellationToken) =>
        WriteAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = """
                UPDATE migrations SET ended_at = $at, result = $result, exit_code = $exit, timed_out = $timedOut, stderr = $stderr,
                                      placement = $placement, note = $note
                WHERE id = $id AND result = 'running';
                """;
            command.Parameters.AddWithValue("$id", id);
            command.Parameters.AddWithValue("$at", Time(endedAt));
            command.Parameters.AddWithValue("$result", result);
            command.Parameters.AddWithValue("$exit", (object?)exitCode ?? DBNull.Value);
            command.Parameters.AddWithValue("$timedOut", timedOut ? 1 : 0);
            command.Parameters.AddWithValue("$stderr", stderr is null ? DBNull.Value : StderrTail(stderr));
            command.Parameters.AddWithValue("$placement", (object?)placement ?? DBNull.Value);
            command.Parameters.AddWithValue("$note", (object?)note ?? DBNull.Value);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
        }, cancellationToken);

    /// <summary>What virsh said, for a migration that stays running until libvirt can say where the domain is. Whether
    /// it passed its deadline is kept, so that resolving it later says timed_out rather than failed.</summary>
    public Task RecordAttemptAsync(long id, int exitCode, bool timedOut, string stderr, string note, CancellationToken cancellationToken) =>
        WriteAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = """
                UPDATE migrations SET exit_code = $exit, timed_out = $timedOut, stderr = $stderr, note = $note
                WHERE id = $id AND result = 'running';
                """;
            command.Parameters.AddWithValue("$id", id);
            command.Parameters.AddWithValue("$exit", exitCode);
            command.Parameters.AddWithValue("$timedOut", timedOut ? 1 : 0);
            command.Parameters.AddWithValue("$stderr", StderrTail(stderr));
            command.Parameters.AddWithValue("$note", note);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    /// <summary>Migrations journaled as running: in this process, or cut short by a crash of an earlier one.</summary>
    public Task<IReadOnlyList<MigrationRecord>> GetRunningMigrationsAsync(CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<MigrationRecord>>(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"{MigrationColumns} WHERE m.result = 'running' ORDER BY m.id;";
            return await ReadAllAsync(command, ReadMigration, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    /// <summary>Per domain, its last successful migration: where it went, when, and why.</summary>
    public Task<IReadOnlyDictionary<string, LastMove>> GetLastMovesAsync(CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyDictionary<string, LastMove>>(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT m.domain, m.target, m.id, m.ended_at, d.reason, d.detail
                FROM migrations m LEFT JOIN decisions d ON d.id = m.decision_id
                WHERE m.id IN (SELECT MAX(id) FROM migrations WHERE result = 'succeeded' GROUP BY domain);
                """;
            var moves = await ReadAllAsync(command,
                r => new LastMove(r.GetString(0), r.GetString(1), r.GetInt64(2), ParseOrNull(r, 3), StringOrNull(r, 4), StringOrNull(r, 5)),
                cancellationToken).ConfigureAwait(false);
            return moves.ToDictionary(m => m.Domain, StringComparer.Ordinal);
        }, cancellationToken);

    /// <summary>Per domain: start of the last successful move, end of the last attempt, how many successful moves
    /// since <paramref name="backoffSince"/>, and <paramref name="didNotHelpCooldownFactor"/> as its cooldown factor
    /// when the verdict on its last successful move is that it did not help (or overloaded its target).</summary>
    public Task<IReadOnlyDictionary<string, DomainHistory>> GetDomainHistoryAsync(DateTimeOffset backoffSince, double didNotHelpCooldownFactor,
        CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyDictionary<string, DomainHistory>>(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT domain,
                       MAX(CASE WHEN result = 'succeeded' THEN started_at END),
                       MAX(ended_at),
                       SUM(CASE WHEN result = 'succeeded' AND started_at >= $since THEN 1 ELSE 0 END),
                       (SELECT last.verdict FROM migrations last WHERE last.domain = migrations.domain AND last.result = 'succeeded'
                        ORDER BY last.id DESC LIMIT 1)
                FROM migrations GROUP BY domain;
                """;
            command.Parameters.AddWithValue("$since", Time(backoffSince));
            var history = new Dictionary<string, DomainHistory>(StringComparer.Ordinal);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var verdict = StringOrNull(reader, 4);
                history[reader.GetString(0)] = new DomainHistory(
                    ParseOrNull(reader, 1), ParseOrNull(reader, 2), reader.IsDBNull(3) ? 0 : reader.GetInt32(3),
                    verdict is MoveVerdicts.DidNotHelp or MoveVerdicts.OverloadedTarget ? didNotHelpCooldownFactor : 1);
            }
            return history;
        }, cancellationToken);

    /// <summary>Successful migrations without a verdict that ended between <paramref name="endedSince"/> and
    /// <paramref name="endedBefore"/>, with their decision's predictions, oldest first.</summary>
    public Task<IReadOnlyList<MoveToVerify>> GetMovesToVerifyAsync(DateTimeOffset endedSince, DateTimeOffset endedBefore, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<MoveToVerify>>(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT m.id, m.domain, m.source, m.target, m.ended_at, d.source_busy_before, d.source_busy_after, d.target_busy_after
                FROM migrations m LEFT JOIN decisions d ON d.id = m.decision_id
                WHERE m.result = 'succeeded' AND m.verdict IS NULL AND m.ended_at >= $since AND m.ended_at <= $before
                ORDER BY m.id;
                """;
            command.Parameters.AddWithValue("$since", Time(endedSince));
            command.Parameters.AddWithValue("$before", Time(endedBefore));
            return await ReadAllAsync(command, r => new MoveToVerify(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3),
                Parse(r.GetString(4)), DoubleOrNull(r, 5), DoubleOrNull(r, 6), DoubleOrNull(r, 7)), cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    /// <summary>Journals the verdict on a move; false when it had one already (verified once).</summary>
    public Task<bool> RecordVerdictAsync(long migrationId, DateTimeOffset at, string verdict, double sourceBusy, double targetBusy, string detail,
        CancellationToken cancellationToken) =>
        WriteAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = """
                UPDATE migrations SET verdict = $verdict, verified_at = $at, source_busy_observed = $source,
                                      target_busy_observed = $target, verdict_detail = $detail
                WHERE id = $id AND verdict IS NULL;
                """;
            command.Parameters.AddWithValue("$id", migrationId);
            command.Parameters.AddWithValue("$verdict", verdict);
            command.Parameters.AddWithValue("$at", Time(at));
            command.Parameters.AddWithValue("$source", sourceBusy);
            command.Parameters.AddWithValue("$target", targetBusy);
            command.Parameters.AddWithValue("$detail", detail);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
        }, cancellationToken);

    public Task<IReadOnlyDictionary<string, HomeRecord>> GetHomesAsync(CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyDictionary<string, HomeRecord>>(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT domain, home_host, origin, recorded_at FROM homes;";
            var homes = new Dictionary<string, HomeRecord>(StringComparer.Ordinal);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                homes[reader.GetString(0)] = new HomeRecord(reader.GetString(0), reader.GetString(1), reader.GetString(2), Parse(reader.GetString(3)));
            }
            return homes;
        }, cancellationToken);

    /// <summary>Records home hosts; <paramref name="overwrite"/> for the inventory's (which win), not for first sightings.</summary>
    public Task SetHomesAsync(IEnumerable<(string Domain, string Host)> homes, string origin, bool overwrite, DateTimeOffset at, CancellationToken cancellationToken) =>
        WriteAsync(async connection =>
        {
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            foreach (var (domain, host) in homes)
            {
                await using var command = connection.CreateCommand();
                command.CommandText = overwrite
                    ? """
                      INSERT INTO homes (domain, home_host, origin, recorded_at) VALUES ($domain, $host, $origin, $at)
                      ON CONFLICT (domain) DO UPDATE SET home_host = excluded.home_host, origin = excluded.origin,
                          recorded_at = excluded.recorded_at
                      WHERE homes.home_host <> excluded.home_host OR homes.origin <> excluded.origin;
                      """
                    : "INSERT INTO homes (domain, home_host, origin, recorded_at) VALUES ($domain, $host, $origin, $at) ON CONFLICT (domain) DO NOTHING;";
                command.Parameters.AddWithValue("$domain", domain);
                command.Parameters.AddWithValue("$host", host);
                command.Parameters.AddWithValue("$origin", origin);
                command.Parameters.AddWithValue("$at", Time(at));
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return 0;
        }, cancellationToken);

    public Task SetMaintenanceAsync(string host, bool maintenance, DateTimeOffset at, string? reason, CancellationToken cancellationToken) =>
        WriteAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = maintenance
                ? "INSERT INTO maintenance (host, since, reason) VALUES ($host, $at, $reason) ON CONFLICT (host) DO NOTHING;"
                : "DELETE FROM maintenance WHERE host = $host;";
            command.Parameters.AddWithValue("$host", host);
            command.Parameters.AddWithValue("$at", Time(at));
            command.Parameters.AddWithValue("$reason", (object?)reason ?? DBNull.Value);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    public Task<IReadOnlySet<string>> GetMaintenanceAsync(CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlySet<string>>(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT host FROM maintenance;";
            var hosts = new HashSet<string>(StringComparer.Ordinal);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                hosts.Add(reader.GetString(0));
            }
            return hosts;
        }, cancellationToken);

    public Task<Page<DecisionRecord>> ListDecisionsAsync(long? before, int limit, CancellationToken cancellationToken) =>
        PageAsync($"{DecisionColumns} WHERE id < $before ORDER BY id DESC LIMIT $limit;", before, limit, ReadDecision, d => d.Id, cancellationToken);

    public Task<Page<MigrationRecord>> ListMigrationsAsync(long? before, int limit, CancellationToken cancellationToken) =>
        PageAsync($"{MigrationColumns} WHERE m.id < $before ORDER BY m.id DESC LIMIT $limit;", before, limit, ReadMigration, m => m.Id, cancellationToken);

    public Task<Page<ReceiptRecord>> ListReceiptsAsync(long? before, int limit, CancellationToken cancellationToken) =>
        PageAsync("SELECT id, received_at, group_key, status, receiver, alert_count, truncated_alerts FROM webhook_receipts WHERE id < $before ORDER BY id DESC LIMIT $limit;",
            before, limit,
            r => new ReceiptRecord(r.GetInt64(0), Parse(r.GetString(1)), StringOrNull(r, 2), StringOrNull(r, 3), StringOrNull(r, 4), r.GetInt32(5), r.GetInt32(6)),
            r => r.Id, cancellationToken);

    public Task<IReadOnlyList<AlertRecord>> ListAlertsAsync(CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<AlertRecord>>(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"{AlertColumns} ORDER BY last_received_at DESC;";
            return await ReadAllAsync(command, ReadAlert, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    /// <summary>Deletes webhook receipts received before <paramref name="before"/> (the alerts' rows keep their state).</summary>
    public Task<int> PruneReceiptsAsync(DateTimeOffset before, CancellationToken cancellationToken) =>
        WriteAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM webhook_receipts WHERE received_at < $before;";
            command.Parameters.AddWithValue("$before", Time(before));
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    public Task<DecisionRecord?> GetLastDecisionAsync(CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"{DecisionColumns} ORDER BY id DESC LIMIT 1;";
            return (await ReadAllAsync(command, ReadDecision, cancellationToken).ConfigureAwait(false)).FirstOrDefault();
        }, cancellationToken);

    internal static string KindName(DecisionKind kind) => kind switch
    {
        DecisionKind.Relief => "relief",
        DecisionKind.ReturnHome => "return_home",
        _ => "drain",
    };

    internal static string OutcomeName(DecisionOutcome outcome) => outcome == DecisionOutcome.Migrate ? "migrate" : "no_action";

    private const string AlertColumns =
        "SELECT fingerprint, alertname, host, action, status, starts_at, ends_at, first_received_at, last_received_at, note FROM alerts";

    private const string DecisionColumns =
        "SELECT id, at, kind, host, outcome, reason, detail, dry_run, domain, source, target, domain_share, " +
        "source_busy_before, source_busy_after, target_busy_before, target_busy_after, " +
        "(SELECT m.verdict FROM migrations m WHERE m.decision_id = decisions.id ORDER BY m.id DESC LIMIT 1) FROM decisions";

    /// <summary>With the reason of the decision that started the migration, so that each says why it happened.</summary>
    private const string MigrationColumns =
        "SELECT m.id, m.decision_id, m.domain, m.source, m.target, m.kind, m.started_at, m.ended_at, m.result, m.exit_code, " +
        "m.stderr, m.placement, m.note, d.reason, m.timed_out, m.verdict, m.verified_at, m.source_busy_observed, m.target_busy_observed, " +
        "m.verdict_detail FROM migrations m LEFT JOIN decisions d ON d.id = m.decision_id";

    private static AlertRecord ReadAlert(SqliteDataReader r) => new(
        r.GetString(0), StringOrNull(r, 1), StringOrNull(r, 2), StringOrNull(r, 3), r.GetString(4),
        ParseOrNull(r, 5), ParseOrNull(r, 6), Parse(r.GetString(7)), Parse(r.GetString(8)), StringOrNull(r, 9));

    private static DecisionRecord ReadDecision(SqliteDataReader r) => new(
        r.GetInt64(0), Parse(r.GetString(1)), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetString(6),
        r.GetInt32(7) != 0, StringOrNull(r, 8), StringOrNull(r, 9), StringOrNull(r, 10), DoubleOrNull(r, 11),
        DoubleOrNull(r, 12), DoubleOrNull(r, 13), DoubleOrNull(r, 14), DoubleOrNull(r, 15), StringOrNull(r, 16));

    private static MigrationRecord ReadMigration(SqliteDataReader r) => new(
        r.GetInt64(0), r.IsDBNull(1) ? null : r.GetInt64(1), r.GetString(2), r.GetString(3), r.GetString(4), StringOrNull(r, 5),
        Parse(r.GetString(6)), ParseOrNull(r, 7), r.GetString(8), r.IsDBNull(9) ? null : r.GetInt32(9), StringOrNull(r, 10),
        StringOrNull(r, 11), StringOrNull(r, 12), StringOrNull(r, 13), r.GetInt32(14) != 0, StringOrNull(r, 15), ParseOrNull(r, 16),
        DoubleOrNull(r, 17), DoubleOrNull(r, 18), StringOrNull(r, 19));

    private async Task<Page<T>> PageAsync<T>(string sql, long? before, int limit, Func<SqliteDataReader, T> read, Func<T, long> id, CancellationToken cancellationToken) =>
        await ReadAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            command.Parameters.AddWithValue("$before", before ?? long.MaxValue);
            command.Parameters.AddWithValue("$limit", limit + 1);
            var items = await ReadAllAsync(command, read, cancellationToken).ConfigureAwait(false);
            return items.Count > limit
                ? new Page<T>([.. items.Take(limit)], id(items[limit - 1]))
                : new Page<T>(items, null);
        }, cancellationToken).ConfigureAwait(false);

    private async Task<DateTimeOffset?> ScalarTimeAsync(string sql, (string Name, string Value)[] parameters, CancellationToken cancellationToken) =>
        await ReadAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue(name, value);
            }
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is string text ? Parse(text) : (DateTimeOffset?)null;
        }, cancellationToken).ConfigureAwait(false);

    private static async Task<List<T>> ReadAllAsync<T>(SqliteCommand command, Func<SqliteDataReader, T> read, CancellationToken cancellationToken)
    {
        var items = new List<T>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            items.Add(read(reader));
        }
        return items;
    }

    private async Task<T> WriteAsync<T>(Func<SqliteConnection, Task<T>> action, CancellationToken cancellationToken, bool initializing = false)
    {
        // One writer at a time: SQLite allows one anyway, and waiting here beats SQLITE_BUSY. Not for longer than
        // SQLite's own busy timeout, so a webhook answers 503 (and Alertmanager retries) rather than hang.
        if (!await writeGate.WaitAsync(BusyTimeout, cancellationToken).ConfigureAwait(false))
        {
            metrics.JournalErrors.Inc();
            throw new JournalException($"journal {Path}: busy for {BusyTimeout.TotalSeconds:0} s", new TimeoutException());
        }
        try
        {
            return await ReadAsync(action, cancellationToken, initializing).ConfigureAwait(false);
        }
        finally
        {
            writeGate.Release();
        }
    }

    private async Task<T> ReadAsync<T>(Func<SqliteConnection, Task<T>> action, CancellationToken cancellationToken, bool initializing = false)
    {
        if (!initializing && Volatile.Read(ref initialized) == 0)
        {
            throw new InvalidOperationException("The journal is used before InitializeAsync.");
        }
        try
        {
            await using var connection = new SqliteConnection(connectionString);
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using (var pragmas = connection.CreateCommand())
            {
                // FULL: a commit is on disk when it returns, also in WAL mode (NORMAL may lose the last commits on power loss).
                pragmas.CommandText = $"PRAGMA busy_timeout = {(int)BusyTimeout.TotalMilliseconds}; PRAGMA synchronous = FULL;";
                await pragmas.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            return await action(connection).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SqliteException or IOException or UnauthorizedAccessException)
        {
            metrics.JournalErrors.Inc();
            throw new JournalException($"journal {Path}: {e.Message}", e);
        }
    }

    private static string StderrTail(string stderr) => stderr.Length <= MaxStderrChars ? stderr : stderr[^MaxStderrChars..];

    internal static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private static string? TimeOrNull(DateTimeOffset? time) =>
        time is { } t && t.Year > 1 ? Time(t) : null;

    private static DateTimeOffset Parse(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    private static DateTimeOffset? ParseOrNull(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : Parse(r.GetString(i));

    private static string? StringOrNull(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    private static double? DoubleOrNull(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetDouble(i);
}
