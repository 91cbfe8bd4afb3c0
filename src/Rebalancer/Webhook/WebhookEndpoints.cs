using System.Text.Json;
using Loadshift.Rebalancer.Inventory;
using Loadshift.Rebalancer.Journal;
using Loadshift.Rebalancer.Metrics;
using Loadshift.Rebalancer.Worker;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Loadshift.Rebalancer.Webhook;

/// <summary>POST /api/v1/webhook: Alertmanager's receiver. It only journals; the worker plans and migrates, so
/// the answer never waits for a migration. Alertmanager retries 5xx and never 4xx: 4xx for input that will
/// never be valid, 503 only when the journal cannot be written (a retry may succeed).</summary>
internal static class WebhookEndpoints
{
    public const string Route = "/webhook";

    private const string LogCategory = "Loadshift.Rebalancer.Webhook";

    public static RouteGroupBuilder MapWebhook(this RouteGroupBuilder api)
    {
        api.MapPost(Route, ReceiveAsync).WithName("AlertmanagerWebhook");
        return api;
    }

    /// <summary>Every status code a webhook request can get, published at 0 from the start: 202 (journaled), 400
    /// (never valid), 413 (webhook.maxBodyBytes) and 503 (journal unwritable) from here; 401 and 503 (token file
    /// unreadable) from the group's filter; 405 from routing (a method other than POST); 500 from the exception
    /// handler (an unexpected exception, e.g. a token file the service may not read).</summary>
    public static IReadOnlyList<int> AnswerCodes { get; } =
    [
        StatusCodes.Status202Accepted, StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized,
        StatusCodes.Status405MethodNotAllowed, StatusCodes.Status413PayloadTooLarge,
        StatusCodes.Status500InternalServerError, StatusCodes.Status503ServiceUnavailable,
    ];

    /// <summary>Counts every webhook request by status code, the 401s of the group's filter included. Outermost in
    /// the pipeline, so that it sees the code the exception handler answers with (500, or 503 for the journal).</summary>
    public static IApplicationBuilder UseWebhookRequestCounting(this IApplicationBuilder app, string path)
    {
        var requests = app.ApplicationServices.GetRequiredService<RebalancerMetrics>().WebhookRequests;
        foreach (var code in AnswerCodes)
        {
            requests.WithLabels(Code(code)).Publish();
        }
        return app.Use(async (context, next) =>
        {
            try
            {
                await next(context).ConfigureAwait(false);
            }
            finally
            {
                if (context.Request.Path.Equals(path, StringComparison.OrdinalIgnoreCase))
                {
                    requests.WithLabels(Code(context.Response.StatusCode)).Inc();
                }
            }
        });
    }

    private static string Code(int status) => status.ToString(System.Globalization.CultureInfo.InvariantCulture);

    internal static async Task<Results<Accepted<WebhookReceipt>, ProblemHttpResult>> ReceiveAsync(
        HttpRequest request,
        SqliteJournal journal,
        WorkerSignal signal,
        IOptions<WebhookOptions> webhookOptions,
        IOptions<PolicyOptions> policyOptions,
        IOptions<InventoryOptions> inventoryOptions,
        TimeProvider time,
        ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger(LogCategory);
        var limit = webhookOptions.Value.MaxBodyBytes;
        if (request.ContentLength > limit)
        {
            return TooLarge(limit);
        }
        var body = await ReadLimitedAsync(request.Body, limit, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return TooLarge(limit);
        }

        AlertmanagerPayload? payload;
        try
        {
            payload = JsonSerializer.Deserialize(body, WebhookJsonContext.Default.AlertmanagerPayload);
        }
        catch (JsonException e)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Malformed JSON",
                detail: $"The body is not an Alertmanager webhook payload: {e.Message}");
        }
        if (payload is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Empty payload", detail: "The body is JSON null.");
        }
        if (payload.Version != "4")
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Unsupported payload version",
                detail: $"Expected Alertmanager webhook payload version \"4\", got {(payload.Version is null ? "none" : $"\"{payload.Version}\"")}.");
        }
        if (payload.TruncatedAlerts < 0)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid payload",
                detail: $"truncatedAlerts counts the alerts Alertmanager left out; it cannot be {payload.TruncatedAlerts}.");
        }
        var alerts = payload.Alerts ?? [];
        // JSON null in the list is no alert (it would otherwise fail below as a 500, which Alertmanager retries forever).
        if (alerts.Any(a => a is null || string.IsNullOrEmpty(a.Fingerprint) || a.Status is not ("firing" or "resolved")))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid alert",
                detail: "Every alert needs a fingerprint and a status of firing or resolved.");
        }

        var policy = policyOptions.Value;
        var inventory = inventoryOptions.Value;
        var updates = alerts.Select(a => new AlertUpdate(
            a.Fingerprint!,
            a.Labels?.GetValueOrDefault("alertname"),
            a.Labels?.GetValueOrDefault("host"),
            a.Labels?.GetValueOrDefault("action"),
            a.Status!,
            a.StartsAt,
            a.EndsAt,
            JsonSerializer.Serialize(a.Labels ?? new Dictionary<string, string>(), WebhookJsonContext.Default.IReadOnlyDictionaryStringString))).ToList();
        RecordedWebhook recorded;
        try
        {
            recorded = await journal.RecordWebhookAsync(time.GetUtcNow(), payload.GroupKey, payload.Status, payload.Receiver,
                System.Text.Encoding.UTF8.GetString(body), payload.TruncatedAlerts, updates, cancellationToken).ConfigureAwait(false);
        }
        catch (JournalException e)
        {
            Log.JournalWriteFailed(logger, e.Message);
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Journal unavailable",
                detail: "The notification could not be recorded; Alertmanager will retry.");
        }
        var relevant = 0;
        foreach (var alert in updates)
        {
            if (recorded.Stale.Contains(alert.Fingerprint))
            {
                Log.AlertStale(logger, alert.Fingerprint, alert.Status, alert.StartsAt);
            }
            else if (IsRelevant(alert.AlertName, alert.Action, alert.Host, policy, inventory))
            {
                relevant++;
            }
            else
            {
                Log.AlertIgnored(logger, alert.AlertName ?? "", alert.Host ?? "", alert.Action ?? "");
            }
        }
        Log.WebhookReceived(logger, recorded.ReceiptId, payload.Status ?? "", alerts.Count, relevant, payload.GroupKey ?? "");
        if (payload.TruncatedAlerts > 0)
        {
            // Alerts left out are neither firing nor resolved here; one whose resolved was left out expires (policy.alertExpiry).
            Log.AlertsTruncated(logger, recorded.ReceiptId, payload.TruncatedAlerts, payload.GroupKey ?? "");
        }
        if (relevant > 0)
        {
            signal.Wake();
        }
        return TypedResults.Accepted((string?)null, new WebhookReceipt(recorded.ReceiptId, alerts.Count, relevant, recorded.Stale.Count,
            payload.TruncatedAlerts));
    }

    /// <summary>The alert the Rebalancer acts on: policy.alertName with action="rebalance" on an inventory host.</summary>
    internal static bool IsRelevant(string? alertName, string? action, string? host, PolicyOptions policy, InventoryOptions inventory) =>
        (alertName == policy.AlertName || alertName == policy.MemoryAlertName) && action == "rebalance" && host is not null
        && inventory.FindHost(host) is not null;

    private static ProblemHttpResult TooLarge(long limit) =>
        TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Payload too large",
            detail: $"The body exceeds webhook.maxBodyBytes ({limit} bytes).");

    /// <summary>Reads the body, or returns null once it passes <paramref name="limit"/> (chunked bodies have no Content-Length).</summary>
    private static async Task<byte[]?> ReadLimitedAsync(Stream body, long limit, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return null;
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}
