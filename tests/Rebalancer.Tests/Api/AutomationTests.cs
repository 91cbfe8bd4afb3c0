using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Loadshift.Rebalancer.Execution;
using Loadshift.Rebalancer.Tests.Support;
using Loadshift.Rebalancer.Worker;
using Microsoft.Extensions.DependencyInjection;

namespace Loadshift.Rebalancer.Tests.Api;

/// <summary>policy.automation (full, partial, manual) and policy.domainAutomation: what waits as a recommendation, its
/// approval, rejection and expiry through the API, its metric; and the progress of a migration in flight.</summary>
public sealed class AutomationTests : IDisposable
{
    private readonly RebalancerFactory factory = new();

    public void Dispose() => factory.Dispose();

    private static readonly Uri Metrics = new("/metrics", UriKind.Relative);

    private static async Task<JsonElement> PendingAsync(HttpClient client) =>
        await client.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/recommendations?status=pending", UriKind.Relative));

    private void Wake() => factory.Services.GetRequiredService<WorkerSignal>().Wake();

    [Fact]
    public async Task In_manual_nothing_moves_until_approve()
    {
        factory.Settings["policy:automation"] = "manual";
        using var client = factory.CreateAuthorizedClient();

        (await client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative), ApiTests.Payload("firing-hv1.json"))).Dispose();

        await Eventually.TrueAsync(async () => (await PendingAsync(client)).GetArrayLength() == 1, "a pending recommendation");
        var recommendation = (await PendingAsync(client))[0];
        var id = recommendation.GetProperty("decisionId").GetInt64();
        Assert.Equal(("vm2", "hv1", "hv2", "relief"), (recommendation.GetProperty("domain").GetString(), recommendation.GetProperty("source").GetString(),
            recommendation.GetProperty("target").GetString(), recommendation.GetProperty("kind").GetString()));
        Assert.Contains($"rebalancer_recommendation_pending{{decision=\"{id}\",kind=\"relief\",domain=\"vm2\",source=\"hv1\",target=\"hv2\"}} 1",
            await client.GetStringAsync(Metrics), StringComparison.Ordinal);
        // Passes go on (the alert repeats, the clock ticks): still one recommendation, nothing moved.
        (await client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative), ApiTests.Payload("firing-hv1.json"))).Dispose();
        Wake();
        await Task.Delay(500);
        Assert.Empty(factory.Hypervisor.Migrations);
        Assert.Equal(1, (await PendingAsync(client)).GetArrayLength());

        using var approved = await client.PostAsync(new Uri($"/api/v1/recommendations/{id}/approve", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        var answer = await approved.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("approved", answer.GetProperty("recommendation").GetProperty("status").GetString());
        Assert.True(answer.GetProperty("migrationId").GetInt64() > 0);
        await Eventually.TrueAsync(() => Task.FromResult(factory.Hypervisor.HostOf("vm2") == "hv2"), "vm2 moved to hv2 once approved");
        Assert.DoesNotContain("rebalancer_recommendation_pending{", await client.GetStringAsync(Metrics), StringComparison.Ordinal);
        // The migration belongs to the decision: its explanation lists it.
        var explanation = await client.GetFromJsonAsync<JsonElement>(new Uri($"/api/v1/decisions/{id}", UriKind.Relative));
        Assert.Equal("vm2", Assert.Single(explanation.GetProperty("migrations").EnumerateArray()).GetProperty("domain").GetString());

        using var again = await client.PostAsync(new Uri($"/api/v1/recommendations/{id}/approve", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("approved", (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        using var unknown = await client.PostAsync(new Uri("/api/v1/recommendations/999/approve", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task In_partial_relief_acts_and_the_return_home_waits_and_can_be_rejected()
    {
        factory.Settings["policy:automation"] = "partial";
        using var client = factory.CreateAuthorizedClient();

        (await client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative), ApiTests.Payload("firing-hv1.json"))).Dispose();
        await Eventually.TrueAsync(() => Task.FromResult(factory.Hypervisor.HostOf("vm2") == "hv2"), "relief acted: vm2 on hv2");

        factory.Metrics.Set(
            new() { ["hv1"] = 0.30, ["hv2"] = 0.14, ["hv3"] = 0.05 },
            new() { [("hv1", "vm1")] = 0.1, [("hv1", "vm3")] = 0.1, [("hv2", "vm2")] = 0.10 });
        (await client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative), ApiTests.Payload("resolved-hv1.json"))).Dispose();

        await Eventually.TrueAsync(async () => (await PendingAsync(client)).GetArrayLength() == 1, "the return home waits");
        var recommendation = (await PendingAsync(client))[0];
        Assert.Equal("return_home", recommendation.GetProperty("kind").GetString());
        Assert.Equal("hv1", recommendation.GetProperty("target").GetString());
        Assert.Equal("hv2", factory.Hypervisor.HostOf("vm2"));
        var id = recommendation.GetProperty("decisionId").GetInt64();

        using var rejected = await client.PostAsync(new Uri($"/api/v1/recommendations/{id}/reject", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.OK, rejected.StatusCode);
        Wake();
        await Task.Delay(500);
        // Rejected: not proposed again within policy.recommendationExpiry, and vm2 stays.
        Assert.Equal(0, (await PendingAsync(client)).GetArrayLength());
        Assert.Equal("hv2", factory.Hypervisor.HostOf("vm2"));
        Assert.Single(factory.Hypervisor.Migrations);
        var all = await client.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/recommendations", UriKind.Relative));
        Assert.Equal("rejected", Assert.Single(all.EnumerateArray()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_domain_override_makes_its_moves_wait_and_an_unapproved_one_expires()
    {
        factory.Settings["policy:domainAutomation:vm2"] = "manual";
        factory.Settings["policy:recommendationExpiry"] = "1s";
        using var client = factory.CreateAuthorizedClient();

        (await client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative), ApiTests.Payload("firing-hv1.json"))).Dispose();
        await Eventually.TrueAsync(async () => (await PendingAsync(client)).GetArrayLength() == 1, "vm2's move waits");
        var id = (await PendingAsync(client))[0].GetProperty("decisionId").GetInt64();

        await Task.Delay(1100);
        Wake();
        await Eventually.TrueAsync(async () =>
        {
            var all = await client.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/recommendations?status=expired", UriKind.Relative));
            return all.EnumerateArray().Any(r => r.GetProperty("decisionId").GetInt64() == id);
        }, "the recommendation expired");
        Assert.Empty(factory.Hypervisor.Migrations);
        using var late = await client.PostAsync(new Uri($"/api/v1/recommendations/{id}/approve", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        using var badStatus = await client.GetAsync(new Uri("/api/v1/recommendations?status=maybe", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, badStatus.StatusCode);
    }

    [Fact]
    public async Task A_migration_in_flight_shows_libvirts_job_statistics_in_the_status_and_the_metrics()
    {
        factory.Hypervisor.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        factory.Hypervisor.Jobs["vm2"] = new JobProgress(TotalBytes: 1_073_741_824, RemainingBytes: 268_435_456, ProcessedBytes: 805_306_368);
        using var client = factory.CreateAuthorizedClient();

        (await client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative), ApiTests.Payload("firing-hv1.json"))).Dispose();

        JsonElement progress = default;
        await Eventually.TrueAsync(async () =>
        {
            var status = await client.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/status", UriKind.Relative));
            progress = status.GetProperty("progress");
            return progress.GetArrayLength() == 1 && progress[0].GetProperty("job").ValueKind == JsonValueKind.Object;
        }, "the migration's progress in the status");
        Assert.Equal("vm2", progress[0].GetProperty("domain").GetString());
        Assert.Equal(268_435_456, progress[0].GetProperty("job").GetProperty("remainingBytes").GetInt64());
        Assert.Equal(0.75, progress[0].GetProperty("job").GetProperty("ratio").GetDouble(), 3);
        var metrics = await client.GetStringAsync(Metrics);
        Assert.Contains("rebalancer_migration_remaining_bytes{domain=\"vm2\",source=\"hv1\",target=\"hv2\"} 268435456", metrics, StringComparison.Ordinal);
        Assert.Contains("rebalancer_migration_total_bytes{domain=\"vm2\",source=\"hv1\",target=\"hv2\"} 1073741824", metrics, StringComparison.Ordinal);

        factory.Hypervisor.Hold.SetResult();
        await Eventually.TrueAsync(async () => !(await client.GetStringAsync(Metrics)).Contains("rebalancer_migration_remaining_bytes{", StringComparison.Ordinal),
            "the progress series gone once the migration ended");
    }
}
