using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Loadshift.Rebalancer.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Loadshift.Rebalancer.Tests.Webhook;

/// <summary>The Alertmanager contract: 401 without the token, 400 for what will never be valid, 413 over the
/// limit, 2xx once the alert is in the journal, 503 only when a retry can help.</summary>
public sealed class WebhookContractTests : IDisposable
{
    private readonly RebalancerFactory factory = new();

    public void Dispose() => factory.Dispose();

    internal static StringContent Payload(string name) =>
        new(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Payloads", name)), Encoding.UTF8, "application/json");

    [Fact]
    public async Task Without_the_token_it_is_401_and_nothing_is_journaled()
    {
        using var client = factory.CreateClient();

        using var none = await client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative), Payload("firing-hv1.json"));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/webhook") { Content = Payload("firing-hv1.json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "wrong-token");
        using var wrong = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal("Bearer", wrong.Headers.WwwAuthenticate.Single().Scheme);
        using var authorized = factory.CreateAuthorizedClient();
        Assert.Empty((await JournalAsync(authorized, "receipts")).GetProperty("items").EnumerateArray());
        Assert.Contains("rebalancer_webhook_requests_total{code=\"401\"} 2", await client.GetStringAsync(new Uri("/metrics", UriKind.Relative)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("truncated.json", "Malformed JSON")]
    [InlineData("version-3.json", "Unsupported payload version")]
    public async Task Input_that_will_never_be_valid_is_400_with_problem_details(string payload, string title)
    {
        using var client = factory.CreateAuthorizedClient();

        using var response = await client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative), Payload(payload));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(title, problem.RootElement.GetProperty("title").GetString());
    }

    [Theory]
    [InlineData("""{"version":"4","alerts":[null]}""", "Invalid alert")]
    [InlineData("""{"version":"4","alerts":[{"status":"firing"}]}""", "Invalid alert")]
    [InlineData("""{"version":"4","alerts":[{"status":"pending","fingerprint":"a"}]}""", "Invalid alert")]
    [InlineData("""[]""", "Malformed JSON")]
    [InlineData("", "Malformed JSON")]
    [InlineData("""{"version":"4","alerts":[{"status":"firing","fingerprint":"a","startsAt":"yesterday"}]}""", "Malformed JSON")]
    [InlineData("""{"version":"4","truncatedAlerts":-1,"alerts":[]}""", "Invalid payload")]
    public async Task Malformed_notifications_are_400_and_journal_nothing(string body, string title)
    {
        using var client = factory.CreateAuthorizedClient();

        using var response = await client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(title, problem.RootElement.GetProperty("title").GetString());
        Assert.Empty((await JournalAsync(client, "receipts")).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task A_body_over_the_limit_is_413()
    {
        using var client = factory.CreateAuthorizedClient();
        var padding = new string('x', 70_000);

        using var response = await client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative),
            new StringContent($$"""{"version":"4","padding":"{{padding}}"}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task A_firing_alert_is_202_once_journaled_and_the_worker_moves_one_vm_off_the_host()
    {
        using var client = factory.CreateAuthorizedClient();

        using var response = await client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative), Payload("firing-hv1.json"));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        using var receipt = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(1, receipt.RootElement.GetProperty("relevant").GetInt32());
        var alert = (await JournalAsync(client, "alerts")).GetProperty("items").EnumerateArray().Single();
        Assert.Equal("5c0a1f0e8a0b7d34", alert.GetProperty("fingerprint").GetString());
        Assert.Equal("firing", alert.GetProperty("status").GetString());
        Assert.Equal("hv1", alert.GetProperty("host").GetString());

        // The seed's first move: the lightest VM whose move relieves hv1, to the emptiest host.
        await Eventually.TrueAsync(() => Task.FromResult(factory.Hypervisor.HostOf("vm2") == "hv2"), "vm2 migrated to hv2");
        await Eventually.TrueAsync(async () => (await JournalAsync(client, "migrations")).GetProperty("items").EnumerateArray()
            .Any(m => m.GetProperty("outcome").GetString() == "succeeded"), "the migration journaled as succeeded");
        var metrics = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Contains("rebalancer_migrations_total{result=\"succeeded\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("rebalancer_decisions_total{outcome=\"migrate\",reason=\"overloaded\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("rebalancer_domain_migrations_total{domain=\"vm2\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("rebalancer_webhook_requests_total{code=\"202\"} 1", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Go_timestamps_with_nanoseconds_are_accepted()
    {
        using var client = factory.CreateAuthorizedClient();

        // Alertmanager writes RFC 3339 with up to nine fractional digits (Go's time.RFC3339Nano).
        using var response = await client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative), Payload("firing-hv1-nanoseconds.json"));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var alert = (await JournalAsync(client, "alerts")).GetProperty("items").EnumerateArray().Single();
        Assert.StartsWith("2026-11-22T02:00:00.123", alert.GetProperty("startsAt").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Repeats_and_concurrent_duplicates_give_one_alert_row_and_one_decision()
    {
        using var client = factory.CreateAuthorizedClient();

        var posts = Enumerable.Range(0, 6).Select(_ => client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative), Payload("firing-hv1.json")));
        var responses = await Task.WhenAll(posts);

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        Assert.Single((await JournalAsync(client, "alerts")).GetProperty("items").EnumerateArray());
        Assert.Equal(6, (await JournalAsync(client, "receipts")).GetProperty("items").GetArrayLength());
        await Eventually.TrueAsync(() => Task.FromResult(factory.Hypervisor.Migrations.Count > 0), "a migration");
        await Task.Delay(500);
        var decisions = (await JournalAsync(client, "decisions")).GetProperty("items").EnumerateArray()
            .Where(d => d.GetProperty("kind").GetString() == "relief").ToList();
        Assert.Single(decisions);
        Assert.Single(factory.Hypervisor.Migrations);
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task A_webhook_during_a_migration_is_answered_at_once_and_starts_no_second_one()
    {
        factory.Hypervisor.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var client = factory.CreateAuthorizedClient();
        (await client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative), Payload("firing-hv1.json"))).Dispose();
        await Eventually.TrueAsync(() => Task.FromResult(factory.Hypervisor.Migrations.Count == 1), "a migration under way");

        var started = DateTime.UtcNow;
        using var during = await client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative), Payload("firing-hv1.json"));

        Assert.Equal(HttpStatusCode.Accepted, during.StatusCode);
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        var status = JsonDocument.Parse(await client.GetStringAsync(new Uri("/api/v1/status", UriKind.Relative))).RootElement;
        Assert.Equal(1, status.GetProperty("migrationsInFlight").GetArrayLength());
        factory.Hypervisor.Hold.SetResult();
        await Eventually.TrueAsync(async () => (await JournalAsync(client, "migrations")).GetProperty("items").EnumerateArray()
            .All(m => m.GetProperty("outcome").GetString() == "succeeded"), "the migration ended");
        Assert.Single(factory.Hypervisor.Migrations);
    }

    [Fact]
    public async Task A_resolved_notification_updates_the_alert()
    {
        factory.Metrics.Set(new() { ["hv1"] = 0.5, ["hv2"] = 0.1, ["hv3"] = 0.1 }, new() { [("hv1", "vm1")] = 0.1 });
        using var client = factory.CreateAuthorizedClient();

        (await client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative), Payload("firing-hv1.json"))).Dispose();
        using var resolved = await client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative), Payload("resolved-hv1.json"));

        Assert.Equal(HttpStatusCode.Accepted, resolved.StatusCode);
        var alert = (await JournalAsync(client, "alerts")).GetProperty("items").EnumerateArray().Single();
        Assert.Equal("resolved", alert.GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_late_resolved_notification_of_an_earlier_firing_does_not_resolve_the_current_one()
    {
        using var client = factory.CreateAuthorizedClient();
        // The alert fires again from 03:00; the notification that resolved its 02:00 firing arrives only now
        // (from the other Alertmanager of an HA pair, or a retry).
        var current = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Payloads", "firing-hv1.json"))
            .Replace("2026-11-22T02:00:00.000Z", "2026-11-22T03:00:00.000Z", StringComparison.Ordinal);
        (await client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative), new StringContent(current, Encoding.UTF8, "application/json"))).Dispose();

        using var late = await client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative), Payload("resolved-hv1.json"));

        Assert.Equal(HttpStatusCode.Accepted, late.StatusCode);
        using var receipt = JsonDocument.Parse(await late.Content.ReadAsStringAsync());
        Assert.Equal((0, 1), (receipt.RootElement.GetProperty("relevant").GetInt32(), receipt.RootElement.GetProperty("stale").GetInt32()));
        var alert = (await JournalAsync(client, "alerts")).GetProperty("items").EnumerateArray().Single();
        Assert.Equal("firing", alert.GetProperty("status").GetString());
        Assert.StartsWith("2026-11-22T03:00:00", alert.GetProperty("startsAt").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, (await JournalAsync(client, "receipts")).GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task A_notification_alertmanager_truncated_is_taken_and_says_so_in_the_answer_the_journal_and_a_warning()
    {
        using var client = factory.CreateAuthorizedClient();

        // Captured from Alertmanager 0.25 with webhook_configs max_alerts: 1 and two alerts in the group.
        using var response = await client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative), Payload("max-alerts-truncated-hv1.json"));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        using var receipt = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal((1, 1), (receipt.RootElement.GetProperty("relevant").GetInt32(), receipt.RootElement.GetProperty("truncatedAlerts").GetInt32()));
        var journaled = (await JournalAsync(client, "receipts")).GetProperty("items").EnumerateArray().Single();
        Assert.Equal(1, journaled.GetProperty("truncatedAlerts").GetInt32());
        var warning = Assert.Single(factory.Logs.Lines, l => l.EventId == 104);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, warning.Level);
        Assert.Contains("left 1 alert(s) of group {}:{alertname=\"HypervisorCpuHigh\", host=\"hv1\"} out", warning.Message, StringComparison.Ordinal);
        Assert.Contains("max_alerts", warning.Message, StringComparison.Ordinal);

        // A complete one: nothing to warn about.
        (await client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative), Payload("firing-hv1.json"))).Dispose();
        Assert.Single(factory.Logs.Lines, l => l.EventId == 104);
        Assert.Equal(0, (await JournalAsync(client, "receipts")).GetProperty("items")[0].GetProperty("truncatedAlerts").GetInt32());
    }

    [Fact]
    public async Task Other_alerts_are_journaled_and_ignored()
    {
        using var client = factory.CreateAuthorizedClient();

        using var response = await client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative), Payload("other-alert.json"));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        using var receipt = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(0, receipt.RootElement.GetProperty("relevant").GetInt32());
        await Task.Delay(300);
        Assert.Empty(factory.Hypervisor.Migrations);
    }

    [Fact]
    public async Task When_the_journal_cannot_be_written_it_is_503_so_alertmanager_retries()
    {
        using var client = factory.CreateAuthorizedClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/healthz", UriKind.Relative))).StatusCode);
        // Another writer holds the database past the journal's busy timeout (5 s).
        using var blocker = new SqliteConnection($"Data Source={factory.JournalPath};Pooling=False");
        blocker.Open();
        using (var begin = blocker.CreateCommand())
        {
            begin.CommandText = "BEGIN EXCLUSIVE;";
            begin.ExecuteNonQuery();
        }

        var started = DateTime.UtcNow;
        using var response = await client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative), Payload("firing-hv1.json"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        // Within Alertmanager's patience: the journal gives up after its busy timeout (5 s, twice at most).
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.Zero, TimeSpan.FromSeconds(12));
        using (var rollback = blocker.CreateCommand())
        {
            rollback.CommandText = "ROLLBACK;";
            rollback.ExecuteNonQuery();
        }
        Assert.Contains("rebalancer_journal_errors_total 1", await client.GetStringAsync(new Uri("/metrics", UriKind.Relative)), StringComparison.Ordinal);
    }

    internal static async Task<JsonElement> JournalAsync(HttpClient client, string kind)
    {
        var text = await client.GetStringAsync(new Uri($"/api/v1/journal?kind={kind}", UriKind.Relative));
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
