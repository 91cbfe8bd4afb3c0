using Loadshift.Rebalancer.Cluster;
using Loadshift.Rebalancer.Execution;
using Loadshift.Rebalancer.Inventory;
using Loadshift.Rebalancer.Journal;
using Loadshift.Rebalancer.Planning;
using Loadshift.Rebalancer.Worker;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Loadshift.Rebalancer.Api;

public sealed record HostStatus(
    string Name,
    string LibvirtUri,
    bool Reachable,
    string? Error,
    double? BusyRatio,
    long? MemoryAvailableBytes,
    bool Maintenance,
    bool AlertFiring,
    IReadOnlyList<string> Domains,
    IReadOnlyDictionary<string, double> DomainCpuShares,
    long? MemoryBytes = null);

/// <summary>A domain away from its home host, and why: the reason and detail of the decision that moved it there
/// (null when the journal has no move of it to that host: moved by hand, or before the journal).</summary>
public sealed record AwayFromHome(string Domain, string Host, string HomeHost, long? MigrationId, DateTimeOffset? MovedAt, string? Reason, string? Detail);

public sealed record StatusResponse(
    string Version,
    bool DryRun,
    DateTimeOffset? SnapshotAt,
    string? MetricsError,
    IReadOnlyList<HostStatus> Hosts,
    IReadOnlyList<AwayFromHome> DomainsAwayFromHome,
    IReadOnlyList<MigrationInFlight> MigrationsInFlight,
    DecisionRecord? LastDecision,
    StatusPolicy? Policy = null,
    IReadOnlyList<MigrationProgress>? Progress = null,
    IReadOnlyList<RecommendationRecord>? Recommendations = null,
    IReadOnlyList<RuleViolation>? RuleViolations = null);

/// <summary>The policy keys an operator reads the status against.</summary>
public sealed record StatusPolicy(double HighWatermark, double LowWatermark, string Automation, IReadOnlyDictionary<string, string> DomainAutomation,
    double MemoryHighWatermark);

/// <summary>The answer to approve or reject: the recommendation as it stands, and the migration an approval started.</summary>
public sealed record RecommendationResponse(RecommendationRecord Recommendation, long? MigrationId);

public sealed record PlanRequest(string? Host);

public sealed record PlanResponse(DateTimeOffset At, IReadOnlyList<Decision> Decisions);

public sealed record MaintenanceResponse(string Host, bool Maintenance, string Detail);

/// <summary>The operator's surface under /api/v1 (the webhook shares the group and its bearer token).</summary>
internal static class ApiEndpoints
{
    public static RouteGroupBuilder MapRebalancerApi(this RouteGroupBuilder api)
    {
        api.MapGet("/status", StatusAsync);
        api.MapGet("/journal", JournalAsync);
        api.MapGet("/decisions/{id}", DecisionAsync);
        api.MapGet("/history", HistoryAsync);
        api.MapGet("/recommendations", RecommendationsAsync);
        api.MapPost("/recommendations/{id}/approve", (string id, RebalanceWorker worker, CancellationToken ct) =>
            AnswerAsync(id, worker.ApproveAsync, ct));
        api.MapPost("/recommendations/{id}/reject", (string id, RebalanceWorker worker, CancellationToken ct) =>
            AnswerAsync(id, worker.RejectAsync, ct));
        api.MapPost("/plan", PlanAsync);
        api.MapPost("/hosts/{host}/drain", (string host, [AsParameters] Services s, CancellationToken ct) => SetMaintenanceAsync(host, true, s, ct));
        api.MapPost("/hosts/{host}/undrain", (string host, [AsParameters] Services s, CancellationToken ct) => SetMaintenanceAsync(host, false, s, ct));
        return api;
    }

    /// <summary>The services the handlers share, bound in one parameter.</summary>
    internal sealed record Services(
        SqliteJournal Journal,
        ClusterObserver Observer,
        RebalanceWorker Worker,
        WorkerSignal Signal,
        IOptions<InventoryOptions> Inventory,
        IOptions<PolicyOptions> Policy,
        TimeProvider Time,
        ILogger<RebalanceWorker> Logger);

    private static async Task<Ok<StatusResponse>> StatusAsync([AsParameters] Services s, CancellationToken cancellationToken)
    {
        var snapshot = s.Observer.Last ?? await s.Observer.ObserveAsync(cancellationToken).ConfigureAwait(false);
        var firing = (await s.Worker.FiringHostsAsync(cancellationToken).ConfigureAwait(false)).ToHashSet(StringComparer.Ordinal);
        var libvirt = snapshot.Libvirt.ToDictionary(h => h.Name, StringComparer.Ordinal);
        var hosts = s.Inventory.Value.Hosts.Select(h =>
        {
            var seen = libvirt.GetValueOrDefault(h.Name);
            var domains = seen?.Domains ?? [];
            var shares = domains
                .Where(d => snapshot.Load?.DomainCpuShare.ContainsKey((h.Name, d)) == true)
                .ToDictionary(d => d, d => snapshot.Load!.DomainCpuShare[(h.Name, d)], StringComparer.Ordinal);
            return new HostStatus(h.Name, h.LibvirtUri, seen?.Reachable ?? false, seen?.Error,
                snapshot.Load?.HostBusy.TryGetValue(h.Name, out var busy) == true ? busy : null,
                snapshot.Load?.HostMemoryAvailable.TryGetValue(h.Name, out var memory) == true ? (long)memory : null,
                snapshot.Maintenance.Contains(h.Name), firing.Contains(h.Name), domains, shares, h.MemoryBytes > 0 ? h.MemoryBytes : null);
        }).ToList();
        var moves = await s.Journal.GetLastMovesAsync(cancellationToken).ConfigureAwait(false);
        var away = snapshot.Libvirt.Where(h => h.Reachable)
            .SelectMany(h => h.Domains.Select(d => (Domain: d, Host: h.Name)))
            .Where(p => snapshot.Homes.TryGetValue(p.Domain, out var home) && home != p.Host)
            .Select(p => moves.TryGetValue(p.Domain, out var move) && move.Target == p.Host
                ? new AwayFromHome(p.Domain, p.Host, snapshot.Homes[p.Domain], move.MigrationId, move.EndedAt, move.Reason, move.Detail)
                : new AwayFromHome(p.Domain, p.Host, snapshot.Homes[p.Domain], null, null, null, null))
            .ToList();
        var last = await s.Journal.GetLastDecisionAsync(cancellationToken).ConfigureAwait(false);
        var policy = s.Policy.Value;
        return TypedResults.Ok(new StatusResponse(Metrics.RebalancerMetrics.Version, policy.DryRun, snapshot.TakenAt,
            snapshot.MetricsError, hosts, away, await s.Worker.InFlightAsync(cancellationToken).ConfigureAwait(false), last,
            new StatusPolicy(policy.HighWatermark, policy.LowWatermark, policy.Automation, policy.DomainAutomation, policy.MemoryHighWatermark),
            s.Worker.Progress(),
            await s.Journal.ListRecommendationsAsync(RecommendationStatus.Pending, 100, cancellationToken).ConfigureAwait(false),
            s.Worker.LastViolations));
    }

    /// <summary>Newest first; pass the answer's <c>nextBefore</c> as <c>before</c> for the next page.</summary>
    private static async Task<Results<Ok<object>, ProblemHttpResult>> JournalAsync(
        SqliteJournal journal, string? kind, long? before, int? limit, CancellationToken cancellationToken)
    {
        var size = Math.Clamp(limit ?? 50, 1, 500);
        object page = (kind ?? "decisions") switch
        {
            "decisions" => await journal.ListDecisionsAsync(before, size, cancellationToken).ConfigureAwait(false),
            "migrations" => await journal.ListMigrationsAsync(before, size, cancellationToken).ConfigureAwait(false),
            "receipts" => await journal.ListReceiptsAsync(before, size, cancellationToken).ConfigureAwait(false),
            "alerts" => new Page<AlertRecord>(await journal.ListAlertsAsync(cancellationToken).ConfigureAwait(false), null),
            _ => "",
        };
        return page is string
            ? TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Unknown journal kind",
                detail: "kind is one of decisions, migrations, receipts, alerts.")
            : TypedResults.Ok(page);
    }

    /// <summary>One decision with its explanation: the moves weighed, the targets rejected and why, its migrations.</summary>
    private static async Task<Results<Ok<DecisionExplanation>, ProblemHttpResult>> DecisionAsync(
        string id, SqliteJournal journal, CancellationToken cancellationToken)
    {
        if (ParseId(id) is not { } number)
        {
            return MalformedId(id);
        }
        return await journal.GetDecisionAsync(number, cancellationToken).ConfigureAwait(false) is { } decision
            ? TypedResults.Ok(decision)
            : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown decision",
                detail: $"The journal holds no decision {number}.");
    }

    /// <summary>Decisions and migrations, newest first, filtered by domain, host, kind (relief, memory_relief, drain, return_home, rule_repair) and
    /// time (since, until: RFC 3339). An unknown host or domain is 404, so that a typo does not read as "nothing happened".</summary>
    private static async Task<Results<Ok<History>, ProblemHttpResult>> HistoryAsync(
        SqliteJournal journal, IOptions<InventoryOptions> inventory, string? domain, string? host, string? kind, string? since, string? until,
        int? limit, CancellationToken cancellationToken)
    {
        if (kind is not null && SqliteJournal.ParseKind(kind) is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Unknown decision kind",
                detail: $"kind '{kind}' is not one of relief, memory_relief, drain, return_home, rule_repair.");
        }
        DateTimeOffset? from = null, to = null;
        foreach (var (name, text) in new[] { ("since", since), ("until", until) })
        {
            if (text is null)
            {
                continue;
            }
            if (!DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at))
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Malformed time",
                    detail: $"{name} '{text}' is not a time such as 2026-12-03T18:00:00Z.");
            }
            if (name == "since")
            {
                from = at;
            }
            else
            {
                to = at;
            }
        }
        if (host is not null && inventory.Value.FindHost(host) is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown host", detail: $"{host} is not in the inventory.");
        }
        if (domain is not null && !await journal.KnowsDomainAsync(domain, cancellationToken).ConfigureAwait(false))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown domain",
                detail: $"{domain} has never been seen on a host of the inventory.");
        }
        return TypedResults.Ok(await journal.GetHistoryAsync(new HistoryFilter(domain, host, kind, from, to), Math.Clamp(limit ?? 50, 1, 500),
            cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Newest first: every recommendation, or those of one status (pending, approved, rejected, expired).</summary>
    private static async Task<Results<Ok<IReadOnlyList<RecommendationRecord>>, ProblemHttpResult>> RecommendationsAsync(
        SqliteJournal journal, string? status, int? limit, CancellationToken cancellationToken)
    {
        if (status is not null && !RecommendationStatus.All.Contains(status))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Unknown recommendation status",
                detail: $"status is one of {string.Join(", ", RecommendationStatus.All)}.");
        }
        return TypedResults.Ok(await journal.ListRecommendationsAsync(status, Math.Clamp(limit ?? 50, 1, 500), cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Approve or reject: 200 with the recommendation, 404 for an unknown id, 409 when it is not pending or
    /// its move is no longer possible.</summary>
    private static async Task<Results<Ok<RecommendationResponse>, ProblemHttpResult>> AnswerAsync(
        string id, Func<long, CancellationToken, Task<RecommendationAnswer>> act, CancellationToken cancellationToken)
    {
        if (ParseId(id) is not { } number)
        {
            return MalformedId(id);
        }
        var answer = await act(number, cancellationToken).ConfigureAwait(false);
        return answer switch
        {
            { Recommendation: null } => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown recommendation",
                detail: $"No decision {number} waits for approval: GET /api/v1/recommendations lists those that do."),
            { Conflict: { } conflict } => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Not approvable", detail: conflict),
            _ => TypedResults.Ok(new RecommendationResponse(answer.Recommendation, answer.MigrationId)),
        };
    }

    private static long? ParseId(string id) =>
        long.TryParse(id, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number) ? number : null;

    private static ProblemHttpResult MalformedId(string id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Malformed decision id",
            detail: $"'{id}' is not a decision id: ids are the positive integers of GET /api/v1/journal?kind=decisions.");

    /// <summary>A dry run: what would be decided now (for one host as if its alert fired, or for the whole
    /// cluster). Nothing is journaled or migrated.</summary>
    private static async Task<Results<Ok<PlanResponse>, ProblemHttpResult>> PlanAsync(
        HttpRequest request, RebalanceWorker worker, IOptions<InventoryOptions> inventory, TimeProvider time, CancellationToken cancellationToken)
    {
        PlanRequest? body = null;
        if (request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            if (!request.HasJsonContentType())
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type",
                    detail: "Send the body as application/json: {\"host\":\"hv1\"}, or no body for the whole cluster.");
            }
            try
            {
                body = await request.ReadFromJsonAsync<PlanRequest>(cancellationToken).ConfigureAwait(false);
            }
            catch (System.Text.Json.JsonException e)
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Malformed JSON", detail: e.Message);
            }
        }
        if (body?.Host is { } host && inventory.Value.FindHost(host) is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown host", detail: $"{host} is not in the inventory.");
        }
        var decisions = await worker.PreviewAsync(body?.Host, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new PlanResponse(time.GetUtcNow(), decisions));
    }

    private static async Task<Results<Accepted<MaintenanceResponse>, ProblemHttpResult>> SetMaintenanceAsync(
        string host, bool maintenance, Services s, CancellationToken cancellationToken)
    {
        var options = s.Inventory.Value.FindHost(host);
        if (options is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown host", detail: $"{host} is not in the inventory.");
        }
        if (!maintenance && options.Maintenance)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Maintenance set in the inventory",
                detail: $"hosts[].maintenance is true for {host} in the inventory; change it there.");
        }
        try
        {
            await s.Journal.SetMaintenanceAsync(host, maintenance, s.Time.GetUtcNow(), "api", cancellationToken).ConfigureAwait(false);
        }
        catch (JournalException e)
        {
            Log.JournalWriteFailed(s.Logger, e.Message);
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Journal unavailable", detail: e.Message);
        }
        Log.MaintenanceChanged(s.Logger, host, maintenance ? "drained" : "undrained");
        s.Signal.Wake();
        return TypedResults.Accepted((string?)null, new MaintenanceResponse(host, maintenance, maintenance
            ? $"{host} receives nothing; its domains move off one at a time."
            : $"{host} takes domains again; its own return once it is calm."));
    }
}
