using System.Net.Http.Json;
using System.Text.Json;
using Loadshift.Rebalancer.Inventory;
using Loadshift.Rebalancer.Tests.Support;
using Loadshift.Rebalancer.Worker;
using Microsoft.Extensions.DependencyInjection;

namespace Loadshift.Rebalancer.Tests.Webhook;

/// <summary>A firing alert whose resolved notification never arrives (Alertmanager restarted while the Rebalancer was
/// down, and dropped it undelivered) must not keep its host overloaded forever: Alertmanager re-sends a firing alert every repeat_interval, so one
/// not re-sent within policy.alertExpiry is resolved by expiry, with the reason in the journal.</summary>
public sealed class AlertExpiryTests : IDisposable
{
    private readonly RebalancerFactory factory = new();

    public void Dispose() => factory.Dispose();

    private static async Task<bool> FiringAsync(HttpClient client, string host)
    {
        var status = await client.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/status", UriKind.Relative));
        return status.GetProperty("hosts").EnumerateArray().Single(h => h.GetProperty("name").GetString() == host).GetProperty("alertFiring").GetBoolean();
    }

    private static async Task<JsonElement> AlertAsync(HttpClient client) =>
        (await WebhookContractTests.JournalAsync(client, "alerts")).GetProperty("items").EnumerateArray().Single();

    private Task PassAsync() => factory.Services.GetRequiredService<RebalanceWorker>().RunPassAsync(CancellationToken.None);

    [Fact]
    public async Task A_firing_alert_not_re_sent_within_the_expiry_is_journaled_resolved_with_its_reason_and_counted()
    {
        var clock = new ManualTimeProvider(new DateTimeOffset(2026, 11, 22, 2, 1, 0, TimeSpan.Zero));
        factory.Time = clock;
        // hv1 busy but under the high watermark: the alert's state is all this test looks at.
        factory.Metrics.Set(new() { ["hv1"] = 0.60, ["hv2"] = 0.10, ["hv3"] = 0.10 }, new() { [("hv1", "vm1")] = 0.2 });
        using var client = factory.CreateAuthorizedClient();
        (await client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative), WebhookContractTests.Payload("firing-hv1.json"))).Dispose();
        Assert.True(await FiringAsync(client, "hv1"));

        // Within the default policy.alertExpiry (20m): Alertmanager may still re-send it.
        clock.Advance(TimeSpan.FromMinutes(19));
        await PassAsync();
        Assert.True(await FiringAsync(client, "hv1"));
        Assert.Equal("firing", (await AlertAsync(client)).GetProperty("status").GetString());

        // Past it: the resolved notification was lost (Alertmanager dropped it while the Rebalancer was down).
        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.False(await FiringAsync(client, "hv1"));
        await PassAsync();
        await PassAsync();

        var alert = await AlertAsync(client);
        Assert.Equal("resolved", alert.GetProperty("status").GetString());
        var note = alert.GetProperty("note").GetString();
        Assert.StartsWith("resolved by expiry at 2026-11-22T02:22:00", note, StringComparison.Ordinal);
        Assert.Contains("not re-sent by Alertmanager since 2026-11-22T02:01:00", note, StringComparison.Ordinal);
        Assert.Contains("policy.alertExpiry (1200s)", note, StringComparison.Ordinal);
        var metrics = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Contains("\nrebalancer_alerts_expired_total 1\n", metrics, StringComparison.Ordinal);
        var warning = Assert.Single(factory.Logs.Lines, l => l.EventId == 105);
        Assert.Contains("HypervisorCpuHigh host=hv1 (5c0a1f0e8a0b7d34) resolved by expiry", warning.Message, StringComparison.Ordinal);

        // Alertmanager re-sends it after all (it still fires): firing again, from Alertmanager's word.
        (await client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative), WebhookContractTests.Payload("firing-hv1.json"))).Dispose();
        alert = await AlertAsync(client);
        Assert.Equal("firing", alert.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, alert.GetProperty("note").ValueKind);
        Assert.True(await FiringAsync(client, "hv1"));
    }

    [Fact]
    public async Task A_late_resolved_after_the_expiry_is_taken_and_counts_nothing_more()
    {
        var clock = new ManualTimeProvider(new DateTimeOffset(2026, 11, 22, 2, 1, 0, TimeSpan.Zero));
        factory.Time = clock;
        factory.Settings["policy:alertExpiry"] = "10m";
        factory.Metrics.Set(new() { ["hv1"] = 0.60, ["hv2"] = 0.10, ["hv3"] = 0.10 }, new() { [("hv1", "vm1")] = 0.2 });
        using var client = factory.CreateAuthorizedClient();
        (await client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative), WebhookContractTests.Payload("firing-hv1.json"))).Dispose();
        clock.Advance(TimeSpan.FromMinutes(11));
        await PassAsync();
        Assert.Contains("policy.alertExpiry (600s)", (await AlertAsync(client)).GetProperty("note").GetString(), StringComparison.Ordinal);

        (await client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative), WebhookContractTests.Payload("resolved-hv1.json"))).Dispose();
        await PassAsync();

        var alert = await AlertAsync(client);
        Assert.Equal(("resolved", JsonValueKind.Null), (alert.GetProperty("status").GetString(), alert.GetProperty("note").ValueKind));
        Assert.Contains("\nrebalancer_alerts_expired_total 1\n", await client.GetStringAsync(new Uri("/metrics", UriKind.Relative)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task After_a_restart_the_expiry_counts_from_the_start_so_alertmanager_can_send_what_it_holds_first()
    {
        var clock = new ManualTimeProvider(new DateTimeOffset(2026, 11, 22, 4, 0, 0, TimeSpan.Zero));
        // The last process heard the alert fire two hours ago, then was down.
        var before = new Components(factory.JournalPath, factory.Hypervisor);
        await before.Journal.InitializeAsync(CancellationToken.None);
        await before.Journal.RecordWebhookAsync(clock.GetUtcNow().AddHours(-2), "g", "firing", "rebalancer", "{}", 0,
            [new("5c0a1f0e8a0b7d34", "HypervisorCpuHigh", "hv1", "rebalance", "firing", clock.GetUtcNow().AddHours(-2), null, "{}")], CancellationToken.None);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        factory.Time = clock;
        factory.Metrics.Set(new() { ["hv1"] = 0.60, ["hv2"] = 0.10, ["hv3"] = 0.10 }, new() { [("hv1", "vm1")] = 0.2 });
        using var client = factory.CreateAuthorizedClient();

        // Just back: Alertmanager has not had its group_interval to send the resolved (or the repeat) it holds.
        await PassAsync();
        Assert.True(await FiringAsync(client, "hv1"));

        clock.Advance(TimeSpan.FromMinutes(21));
        await PassAsync();
        Assert.False(await FiringAsync(client, "hv1"));
        Assert.Contains("not re-sent by Alertmanager since 2026-11-22T02:00:00", (await AlertAsync(client)).GetProperty("note").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0s")]
    [InlineData("-00:05:00")]
    public void An_expiry_that_is_no_positive_duration_stops_the_start_with_the_key(string value)
    {
        factory.Settings["policy:alertExpiry"] = value;

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains("policy.alertExpiry", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_default_expiry_outlasts_two_lost_repeats_of_the_committed_alertmanager_route()
    {
        using var reader = File.OpenText(Path.Combine(Loadshift.Lab.RepositoryRoot.Path, "alertmanager", "alertmanager.yml"));
        var alertmanager = YamlConfigurationProvider.Parse(reader, "alertmanager.yml");
        var route = Enumerable.Range(0, 10).Select(i => $"route:routes:{i}")
            .First(r => alertmanager.GetValueOrDefault($"{r}:receiver") == "rebalancer");
        Assert.True(DurationConverter.TryParse(alertmanager[$"{route}:repeat_interval"]!, out var repeat));
        Assert.True(DurationConverter.TryParse(alertmanager[$"{route}:group_interval"]!, out var group));

        // A repeat goes out at the first group_interval tick after repeat_interval: at most their sum apart.
        var expiry = new PolicyOptions().AlertExpiry;
        Assert.True(expiry >= 3 * (repeat + group), $"policy.alertExpiry {expiry} expires an alert Alertmanager re-sends every {repeat + group}");
    }
}
