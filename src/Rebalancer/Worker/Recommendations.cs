using Loadshift.Rebalancer.Execution;
using Loadshift.Rebalancer.Inventory;
using Loadshift.Rebalancer.Journal;
using Loadshift.Rebalancer.Planning;

namespace Loadshift.Rebalancer.Worker;

/// <summary>The answer to an operator's approve or reject.</summary>
/// <param name="Recommendation">The recommendation as it stands now; null for an unknown id.</param>
/// <param name="Conflict">Why it cannot be done (no longer pending, or the move is no longer possible); null when done.</param>
/// <param name="MigrationId">The migration an approval started.</param>
public sealed record RecommendationAnswer(RecommendationRecord? Recommendation, string? Conflict, long? MigrationId = null);

/// <summary>Moves that wait for an operator (policy.automation): journaled as recommendations, published as
/// rebalancer_recommendation_pending (RebalancerRecommendationPending tells people), approved or rejected through the
/// API (<c>loadshift approve ID</c>), expired after policy.recommendationExpiry.</summary>
public sealed partial class RebalanceWorker
{
    private readonly HashSet<string> publishedRecommendations = new(StringComparer.Ordinal);

    /// <summary>The migrations of this process with libvirt's job statistics (GET /api/v1/status).</summary>
    public IReadOnlyList<MigrationProgress> Progress() => tracker.Progress();

    private async Task RecommendAsync(long decisionId, DecisionKind kind, string host, MigrationPlan migration, string level,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await journal.RecordRecommendationAsync(decisionId, kind, host, migration, now, now + policy.RecommendationExpiry, cancellationToken)
            .ConfigureAwait(false);
        Log.Recommended(logger, decisionId, level, migration.Domain, migration.Source, migration.Target, now + policy.RecommendationExpiry);
        await PublishRecommendationsAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task ExpireRecommendationsAsync(CancellationToken cancellationToken)
    {
        await journal.ExpireRecommendationsAsync(time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        await PublishRecommendationsAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>rebalancer_recommendation_pending: one series per pending recommendation; the others removed.</summary>
    private async Task PublishRecommendationsAsync(CancellationToken cancellationToken)
    {
        var pending = await journal.ListRecommendationsAsync(RecommendationStatus.Pending, 1000, cancellationToken).ConfigureAwait(false);
        lock (publishedRecommendations)
        {
            var now = new HashSet<string>(StringComparer.Ordinal);
            foreach (var r in pending)
            {
                string[] labels = [r.DecisionId.ToString(System.Globalization.CultureInfo.InvariantCulture), r.Kind, r.Domain, r.Source, r.Target];
                var key = string.Join('\t', labels);
                now.Add(key);
                metrics.RecommendationPending.WithLabels(labels).Set(1);
            }
            foreach (var key in publishedRecommendations.Except(now).ToList())
            {
                metrics.RecommendationPending.RemoveLabelled(key.Split('\t'));
                publishedRecommendations.Remove(key);
            }
            publishedRecommendations.UnionWith(now);
        }
    }

    /// <summary>Runs a pending recommendation's move now, if it is still possible: the domain still on its source, the
    /// target taking it under the hard rules and the watermark (<see cref="Planner.TargetRules"/>, weighed on a fresh
    /// look), the in-flight limit not reached. The prediction is made again on that look.</summary>
    public async Task<RecommendationAnswer> ApproveAsync(long decisionId, CancellationToken cancellationToken)
    {
        await passGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var answer = await PendingAsync(decisionId, cancellationToken).ConfigureAwait(false);
            if (answer is not { Conflict: null, Recommendation: { } recommendation })
            {
                return answer;
            }
            var snapshot = await observer.ObserveAsync(cancellationToken).ConfigureAwait(false);
            var input = await BuildInputAsync(snapshot, cancellationToken).ConfigureAwait(false);
            var context = new PlanningContext(input);
            var domain = input.Domains.FirstOrDefault(d => d.Name == recommendation.Domain);
            string? conflict = null;
            if (domain is null || domain.Host != recommendation.Source)
            {
                conflict = $"{recommendation.Domain} is no longer on {recommendation.Source} ({(domain is null ? "libvirt shows it on no host" : $"now on {domain.Host}")})";
            }
            else if (input.InFlight.Count >= input.Policy.MaxMigrationsInFlight)
            {
                conflict = $"policy.maxMigrationsInFlight ({input.Policy.MaxMigrationsInFlight}) migrations are in flight; approve again once one ended";
            }
            else if (!context.Hosts.TryGetValue(recommendation.Source, out var source) || !context.Hosts.TryGetValue(recommendation.Target, out var target))
            {
                conflict = $"{recommendation.Source} or {recommendation.Target} is no longer in the inventory";
            }
            else
            {
                var weight = context.Weigh(Planner.TargetRules, domain, source, target);
                if (weight.RejectedBy is not null)
                {
                    var rejection = context.Rejection(weight, domain, target);
                    conflict = $"{rejection.Rule}: {rejection.Reason}";
                }
                else if (await journal.ResolveRecommendationAsync(decisionId, RecommendationStatus.Approved, time.GetUtcNow(), "api", cancellationToken)
                    .ConfigureAwait(false))
                {
                    var kind = SqliteJournal.ParseKind(recommendation.Kind) ?? DecisionKind.Relief;
                    var started = await LaunchAsync(kind, PlanningContext.PlanMove(domain, source, target, input.Policy), decisionId, cancellationToken).ConfigureAwait(false);
                    Log.RecommendationResolved(logger, decisionId, RecommendationStatus.Approved, "api");
                    await PublishRecommendationsAsync(cancellationToken).ConfigureAwait(false);
                    return new RecommendationAnswer(await journal.GetRecommendationAsync(decisionId, cancellationToken).ConfigureAwait(false), null, started.Id);
                }
                else
                {
                    conflict = "it is no longer pending";
                }
            }
            return new RecommendationAnswer(recommendation, $"Decision {decisionId} cannot be approved: {conflict}.");
        }
        finally
        {
            passGate.Release();
        }
    }

    public async Task<RecommendationAnswer> RejectAsync(long decisionId, CancellationToken cancellationToken)
    {
        var answer = await PendingAsync(decisionId, cancellationToken).ConfigureAwait(false);
        if (answer is not { Conflict: null, Recommendation: not null })
        {
            return answer;
        }
        if (!await journal.ResolveRecommendationAsync(decisionId, RecommendationStatus.Rejected, time.GetUtcNow(), "api", cancellationToken).ConfigureAwait(false))
        {
            return new RecommendationAnswer(answer.Recommendation, $"Decision {decisionId} is no longer pending.");
        }
        Log.RecommendationResolved(logger, decisionId, RecommendationStatus.Rejected, "api");
        await PublishRecommendationsAsync(cancellationToken).ConfigureAwait(false);
        return new RecommendationAnswer(await journal.GetRecommendationAsync(decisionId, cancellationToken).ConfigureAwait(false), null);
    }

    /// <summary>The recommendation, with a conflict unless it is pending.</summary>
    private async Task<RecommendationAnswer> PendingAsync(long decisionId, CancellationToken cancellationToken)
    {
        var recommendation = await journal.GetRecommendationAsync(decisionId, cancellationToken).ConfigureAwait(false);
        return recommendation switch
        {
            null => new RecommendationAnswer(null, null),
            { Status: RecommendationStatus.Pending } => new RecommendationAnswer(recommendation, null),
            _ => new RecommendationAnswer(recommendation,
                $"Decision {decisionId} is {recommendation.Status}{(recommendation.ResolvedAt is { } at ? $" since {at:O}" : "")}, not pending."),
        };
    }
}
