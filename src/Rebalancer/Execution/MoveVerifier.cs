using System.Globalization;
using Loadshift.Rebalancer.Cluster;
using Loadshift.Rebalancer.Inventory;
using Loadshift.Rebalancer.Journal;
using Loadshift.Rebalancer.Metrics;

namespace Loadshift.Rebalancer.Execution;

/// <summary>The verdict on one move and the figures behind it.</summary>
public sealed record Verdict(string Name, string Detail);

/// <summary>Checks, policy.verifyAfter after a successful migration, what the move did: from the snapshot's busy
/// ratios (Prometheus, through <see cref="IMetricsSource"/>), did the source fall as the decision predicted and did
/// the target stay under the high watermark. The verdict is journaled, counted and logged once per migration.</summary>
public sealed class MoveVerifier(SqliteJournal journal, RebalancerMetrics metrics, PolicyOptions policy, TimeProvider time, ILogger logger)
{
    /// <summary>Verifies the moves due: successful migrations that ended policy.verifyAfter ago, or up to a window
    /// earlier (as long as verifyAfter, at least two check intervals, so that a pass falls in it). A move whose hosts
    /// have no busy ratio in <paramref name="load"/> waits for the next look; one that has none within the window stays
    /// without a verdict (later figures would show more than the move: other moves, other load; so does a move whose
    /// window passed while the Rebalancer was down). Returns the verdicts journaled.</summary>
    public async Task<int> VerifyDueAsync(LoadMetrics? load, CancellationToken cancellationToken)
    {
        if (load is null)
        {
            return 0;
        }
        var now = time.GetUtcNow();
        var after = policy.VerifyAfterOrSettleTime;
        var verified = 0;
        // As wide as verifyAfter, and at least two passes (checkInterval) wide, so that a pass falls in it.
        var window = after > policy.CheckInterval * 2 ? after : policy.CheckInterval * 2;
        foreach (var move in await journal.GetMovesToVerifyAsync(now - after - window, now - after, cancellationToken).ConfigureAwait(false))
        {
            if (!load.HostBusy.TryGetValue(move.Source, out var source) || !load.HostBusy.TryGetValue(move.Target, out var target))
            {
                continue;
            }
            var verdict = Judge(move, source, target, policy.HighWatermark, policy.VerifyTolerance);
            if (await journal.RecordVerdictAsync(move.MigrationId, now, verdict.Name, source, target, verdict.Detail, cancellationToken).ConfigureAwait(false))
            {
                verified++;
                metrics.MoveVerdicts.WithLabels(verdict.Name).Inc();
                Log.MoveVerified(logger, move.MigrationId, move.Domain, move.Source, move.Target, verdict.Name, verdict.Detail);
            }
        }
        return verified;
    }

    /// <summary>overloaded_target when the target is at or over the high watermark; else did_not_help when the source
    /// is above its predicted busy ratio plus the tolerance; else helped. A move without a prediction (journaled
    /// without a decision) is held to the high watermark on the source instead.</summary>
    public static Verdict Judge(MoveToVerify move, double sourceBusy, double targetBusy, double highWatermark, double tolerance)
    {
        var targetText = $"{move.Target} at {F(targetBusy)}";
        if (targetBusy >= highWatermark)
        {
            return new(MoveVerdicts.OverloadedTarget,
                $"{targetText}, at or over the high watermark {F(highWatermark)} (predicted {Predicted(move.TargetBusyAfter)})");
        }
        var limit = move.SourceBusyAfter is { } predicted ? predicted + tolerance : highWatermark;
        var expected = move.SourceBusyAfter is { } p
            ? $"predicted {F(p)} + tolerance {F(tolerance)}"
            : $"no prediction: the high watermark {F(highWatermark)}";
        var sourceText = $"{move.Source} at {F(sourceBusy)}{(move.SourceBusyBefore is { } before ? $" (from {F(before)})" : "")}";
        return sourceBusy > limit
            ? new(MoveVerdicts.DidNotHelp, $"{sourceText}, above {expected}; {targetText}")
            : new(MoveVerdicts.Helped, $"{sourceText}, not above {expected}; {targetText}, under {F(highWatermark)}");
    }

    private static string Predicted(double? value) => value is { } v ? F(v) : "none";

    private static string F(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);
}
