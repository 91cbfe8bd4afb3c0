using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Loadshift.Rebalancer.Tests.Support;
using Loadshift.Rebalancer.Tests.Webhook;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Loadshift.Rebalancer.Tests.Api;

public sealed class ApiTests : IDisposable
{
    private readonly RebalancerFactory factory = new();

    public void Dispose() => factory.Dispose();

    private static StringContent Payload(string name) =>
        new(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Payloads", name)), Encoding.UTF8, "application/json");

    [Fact]
    public async Task The_seed_cycle_away_on_the_alert_and_home_once_hv1_is_calm()
    {
        using var client = factory.CreateAuthorizedClient();
        (await client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative), Payload("firing-hv1.json"))).Dispose();
        await Eventually.TrueAsync(() => Task.FromResult(factory.Hypervisor.HostOf("vm2") == "hv2"), "vm2 moved to hv2");

        var status = await client.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/status", UriKind.Relative));
        await Eventually.TrueAsync(async () =>
        {
            status = await client.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/status", UriKind.Relative));
            return status.GetProperty("domainsAwayFromHome").GetArrayLength() == 1;
        }, "status shows vm2 away from home");
        var away = status.GetProperty("domainsAwayFromHome")[0];
        Assert.Equal("hv1", away.GetProperty("homeHost").GetString());
        // Why vm2 is away: the decision that moved it, in the status and on its migration.
        Assert.Equal("overloaded", away.GetProperty("reason").GetString());
        Assert.StartsWith("hv1 busy 0.93 > 0.80", away.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var migration = (await WebhookContractTests.JournalAsync(client, "migrations")).GetProperty("items")[0];
        Assert.Equal(away.GetProperty("migrationId").GetInt64(), migration.GetProperty("id").GetInt64());
        Assert.Equal("overloaded", migration.GetProperty("reason").GetString());
        // A migration's result (docs/glossary.md), and under its former name for the clients that read it.
        Assert.Equal("succeeded", migration.GetProperty("result").GetString());
        Assert.Equal("succeeded", migration.GetProperty("outcome").GetString());
        // Verified at the next pass (settleTime 0s here): Prometheus (the fake) still says hv1 0.93, not the 0.64 predicted.
        await Eventually.TrueAsync(async () =>
        {
            migration = (await WebhookContractTests.JournalAsync(client, "migrations")).GetProperty("items")[0];
            return migration.GetProperty("verdict").ValueKind == JsonValueKind.String;
        }, "the move's verdict");
        Assert.Equal("did_not_help", migration.GetProperty("verdict").GetString());
        Assert.StartsWith("hv1 at 0.93 (from 0.93), above predicted 0.64 + tolerance 0.10", migration.GetProperty("verdictDetail").GetString(), StringComparison.Ordinal);

        // The load falls, vm2's too: hv1 stays under the low watermark for the calm window and stays under it with vm2
        // back (0.30 + 0.10; with vm2 still at 0.29 it would reach 0.59 and vm2 would stay away); Alertmanager resolves.
        factory.Metrics.Set(
            new() { ["hv1"] = 0.30, ["hv2"] = 0.14, ["hv3"] = 0.05 },
            new() { [("hv1", "vm1")] = 0.1, [("hv1", "vm3")] = 0.1, [("hv2", "vm2")] = 0.10 });
        (await client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative), Payload("resolved-hv1.json"))).Dispose();

        await Eventually.TrueAsync(() => Task.FromResult(factory.Hypervisor.HostOf("vm2") == "hv1"), "vm2 back home on hv1");
        Assert.Equal([("vm2", "hv1", "hv2"), ("vm2", "hv2", "hv1")], factory.Hypervisor.Migrations);
        var decisions = (await WebhookContractTests.JournalAsync(client, "decisions")).GetProperty("items").EnumerateArray()
            .Select(d => d.GetProperty("reason").GetString()).ToList();
        Assert.Equal(["return_home", "overloaded"], decisions);
    }

    [Fact]
    public async Task Plan_is_a_dry_run_that_journals_nothing()
    {
        using var client = factory.CreateAuthorizedClient();

        using var response = await client.PostAsJsonAsync(new Uri("/api/v1/plan", UriKind.Relative), new { host = "hv1" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var plan = await response.Content.ReadFromJsonAsync<JsonElement>();
        var decision = plan.GetProperty("decisions")[0];
        Assert.Equal("overloaded", decision.GetProperty("reason").GetString());
        Assert.Equal("vm2", decision.GetProperty("migration").GetProperty("domain").GetString());
        Assert.Empty((await WebhookContractTests.JournalAsync(client, "decisions")).GetProperty("items").EnumerateArray());
        Assert.Empty(factory.Hypervisor.Migrations);

        using var whole = await client.PostAsync(new Uri("/api/v1/plan", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        using var unknown = await client.PostAsJsonAsync(new Uri("/api/v1/plan", UriKind.Relative), new { host = "hv9" });
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        using var text = await client.PostAsync(new Uri("/api/v1/plan", UriKind.Relative), new StringContent("hv1", Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, text.StatusCode);
        using var malformed = await client.PostAsync(new Uri("/api/v1/plan", UriKind.Relative), new StringContent("{\"host\":", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
    }

    [Fact]
    public async Task Drain_moves_everything_off_and_undrain_lets_it_come_home()
    {
        factory.Metrics.Set(
            new() { ["hv1"] = 0.30, ["hv2"] = 0.05, ["hv3"] = 0.05 },
            new() { [("hv1", "vm1")] = 0.10, [("hv1", "vm2")] = 0.09, [("hv1", "vm3")] = 0.08 });
        using var client = factory.CreateAuthorizedClient();

        using var drained = await client.PostAsync(new Uri("/api/v1/hosts/hv1/drain", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.Accepted, drained.StatusCode);
        await Eventually.TrueAsync(async () =>
        {
            // The worker looks again on every wake-up; a test nudges it with a harmless plan request's snapshot.
            var status = await client.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/status", UriKind.Relative));
            factory.Services.GetRequiredService<Loadshift.Rebalancer.Worker.WorkerSignal>().Wake();
            return new[] { "vm1", "vm2", "vm3" }.All(d => factory.Hypervisor.HostOf(d) != "hv1");
        }, "hv1 drained");
        Assert.Contains("rebalancer_host_maintenance{host=\"hv1\"} 1", await client.GetStringAsync(new Uri("/metrics", UriKind.Relative)), StringComparison.Ordinal);

        using var undrained = await client.PostAsync(new Uri("/api/v1/hosts/hv1/undrain", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.Accepted, undrained.StatusCode);
        using var unknown = await client.PostAsync(new Uri("/api/v1/hosts/hv9/drain", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task In_dry_run_decisions_are_journaled_and_nothing_migrates()
    {
        factory.Settings["policy:dryRun"] = "true";
        using var client = factory.CreateAuthorizedClient();

        (await client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative), Payload("firing-hv1.json"))).Dispose();

        await Eventually.TrueAsync(async () => (await WebhookContractTests.JournalAsync(client, "decisions")).GetProperty("items").GetArrayLength() > 0,
            "a decision");
        var decision = (await WebhookContractTests.JournalAsync(client, "decisions")).GetProperty("items")[0];
        Assert.True(decision.GetProperty("dryRun").GetBoolean());
        Assert.Equal("vm2", decision.GetProperty("domain").GetString());
        await Task.Delay(300);
        Assert.Empty(factory.Hypervisor.Migrations);
        Assert.Contains("rebalancer_decisions_total{outcome=\"dry_run\",reason=\"overloaded\"} 1",
            await client.GetStringAsync(new Uri("/metrics", UriKind.Relative)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_journal_that_cannot_be_read_is_503_with_problem_details()
    {
        using var client = factory.CreateAuthorizedClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/api/v1/journal", UriKind.Relative))).StatusCode);
        // The file is no SQLite database any more (a disk gone bad, a wrong restore).
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        File.WriteAllBytes(factory.JournalPath, new byte[8192]);
        File.Delete(factory.JournalPath + "-wal");
        File.Delete(factory.JournalPath + "-shm");

        using var response = await client.GetAsync(new Uri("/api/v1/journal", UriKind.Relative));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Journal unavailable", problem.RootElement.GetProperty("title").GetString());
    }

    [Fact]
    public async Task Health_metrics_and_the_token_on_the_api()
    {
        using var anonymous = factory.CreateClient();

        Assert.Equal("ok\n", await anonymous.GetStringAsync(new Uri("/healthz", UriKind.Relative)));
        using var metrics = await anonymous.GetAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", metrics.Content.Headers.ContentType?.ToString());
        using var status = await anonymous.GetAsync(new Uri("/api/v1/status", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, status.StatusCode);
    }

    [Fact]
    public void A_bad_inventory_stops_the_start_with_the_key_in_the_message()
    {
        factory.Settings["policy:highWatermark"] = "1.5";

        var error = Assert.Throws<OptionsValidationException>(() => factory.CreateClient());

        Assert.Contains("policy.highWatermark", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_listen_address_that_is_no_address_stops_the_start_with_the_key()
    {
        factory.Settings["listen"] = "10.0.0.1";

        var error = Assert.Throws<OptionsValidationException>(() => factory.CreateClient());

        Assert.Contains("listen must be http://HOST:PORT, HOST:PORT or :PORT (got '10.0.0.1')", error.Message, StringComparison.Ordinal);
    }
}
