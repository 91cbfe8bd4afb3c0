using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Loadshift.Config.Tests;

/// <summary>
/// alertmanager.yml's inhibit_rules in the real Alertmanager: alerts are posted to its API, and its own view of
/// each one (active, or suppressed and by what) is compared with what the rules are meant to do. amtool has no
/// test for inhibition.
/// </summary>
public sealed class InhibitionTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Causes_suppress_their_symptoms_on_the_same_host_and_never_the_rebalance_alert()
    {
        using var temp = new TempDirectory();
        using var rebalancer = new FakeRebalancer();
        using var alertmanager = new RenderedAlertmanager(temp, rebalancer.Url, "inhibition-token");
        using var http = new HttpClient { BaseAddress = new Uri(alertmanager.Url), Timeout = TimeSpan.FromSeconds(5) };
        await WaitReadyAsync(http, alertmanager);

        // Causes.
        var exporterDownHv1 = Alert("HypervisorExporterDown", ("host", "hv1"), ("severity", "critical"));
        var libvirtDownHv2 = Alert("HypervisorLibvirtDown", ("host", "hv2"), ("severity", "critical"));
        var targetsAbsent = Alert("HypervisorExporterTargetsAbsent", ("job", "hypervisor"), ("severity", "critical"));
        var rebalancerDown = Alert("RebalancerDown", ("job", "rebalancer"), ("instance", "127.0.0.1:10180"), ("severity", "critical"));
        var webhookErrors = Alert("RebalancerWebhookErrors", ("job", "rebalancer"), ("instance", "127.0.0.1:10180"), ("code", "401"), ("severity", "warning"));
        // The Rebalancer's trigger, on the host whose exporter is down.
        var cpuHighHv1 = Alert("HypervisorCpuHigh", ("host", "hv1"), ("action", "rebalance"), ("severity", "warning"));
        var expected = new Dictionary<JsonObject, string[]>
        {
            [exporterDownHv1] = [],
            [libvirtDownHv2] = [],
            [targetsAbsent] = [],
            [rebalancerDown] = [],
            [webhookErrors] = [],
            [cpuHighHv1] = [],
            // Symptoms of hv1's exporter down, and of libvirt down on hv2.
            [Alert("HypervisorLibvirtDown", ("host", "hv1"), ("severity", "critical"))] = ["HypervisorExporterDown"],
            [Alert("HypervisorCollectorFailing", ("host", "hv1"), ("collector", "cpu"), ("severity", "warning"))] = ["HypervisorExporterDown"],
            [Alert("RebalancerHostUnreachable", ("host", "hv1"), ("severity", "warning"))] = ["HypervisorExporterDown"],
            [Alert("HypervisorCollectorFailing", ("host", "hv2"), ("collector", "libvirt"), ("severity", "warning"))] = ["HypervisorLibvirtDown"],
            [Alert("RebalancerHostUnreachable", ("host", "hv2"), ("severity", "warning"))] = ["HypervisorLibvirtDown"],
            // Not symptoms: another collector of hv2, another host.
            [Alert("HypervisorCollectorFailing", ("host", "hv2"), ("collector", "cpu"), ("severity", "warning"))] = [],
            [Alert("RebalancerHostUnreachable", ("host", "hv3"), ("severity", "warning"))] = [],
            [Alert("HypervisorExporterTargetMissing", ("host", "hv3"), ("severity", "critical"))] = ["HypervisorExporterTargetsAbsent"],
            // The webhook's failures while the Rebalancer is down or rejects requests; not another integration's.
            [Alert("AlertmanagerNotificationsFailing", ("instance", "127.0.0.1:9093"), ("integration", "webhook"), ("severity", "warning"))] = ["RebalancerDown", "RebalancerWebhookErrors"],
            [Alert("AlertmanagerNotificationsFailing", ("instance", "127.0.0.1:9093"), ("integration", "email"), ("severity", "warning"))] = [],
        };
        var fingerprints = expected.Keys.ToDictionary(Key, a => a, StringComparer.Ordinal);

        await PostAsync(http, [.. expected.Keys]);

        string Describe(IReadOnlyDictionary<string, (string State, string[] By)> seen) =>
            string.Join('\n', seen.Select(s => $"{s.Key}: {s.Value.State} by [{string.Join(',', s.Value.By)}]")) + $"\n{alertmanager.Output}";
        var seen = new Dictionary<string, (string State, string[] By)>(StringComparer.Ordinal);
        // Alertmanager names the first inhibiting alert it finds: one of those expected.
        bool Matches() => fingerprints.All(f => seen.TryGetValue(f.Key, out var s)
            && s.State == (expected[f.Value].Length == 0 ? "active" : "suppressed")
            && s.By.Length == Math.Min(1, expected[f.Value].Length)
            && s.By.All(expected[f.Value].Contains));
        var deadline = DateTime.UtcNow + Patience;
        do
        {
            seen = await StatesAsync(http, fingerprints);
            if (Matches())
            {
                break;
            }

            await Task.Delay(250);
        }
        while (DateTime.UtcNow < deadline);
        Assert.True(Matches(), Describe(seen));

        // The Rebalancer gets hv1's alert though hv1's exporter is down, and its resolution too: a muted resolved
        // notification would leave the host overloaded in the Rebalancer's journal.
        var firing = await NextFor(rebalancer, "firing", alertmanager);
        Assert.Equal("HypervisorCpuHigh", firing.GetProperty("alerts")[0].GetProperty("labels").GetProperty("alertname").GetString());
        cpuHighHv1["endsAt"] = DateTimeOffset.UtcNow.ToString("o", CultureInfo.InvariantCulture);
        await PostAsync(http, [cpuHighHv1]);
        var resolved = await NextFor(rebalancer, "resolved", alertmanager);
        Assert.Equal("hv1", resolved.GetProperty("alerts")[0].GetProperty("labels").GetProperty("host").GetString());
    }

    private static JsonObject Alert(string alertname, params (string Name, string Value)[] labels)
    {
        var labelObject = new JsonObject { ["alertname"] = alertname };
        foreach (var (name, value) in labels)
        {
            labelObject[name] = value;
        }

        return new JsonObject
        {
            ["labels"] = labelObject,
            ["startsAt"] = DateTimeOffset.UtcNow.AddMinutes(-1).ToString("o", CultureInfo.InvariantCulture),
            ["endsAt"] = DateTimeOffset.UtcNow.AddHours(1).ToString("o", CultureInfo.InvariantCulture),
        };
    }

    /// <summary>An alert's identity for these tests: its labels, sorted.</summary>
    private static string Key(JsonObject alert) => Key(((JsonObject)alert["labels"]!).Select(l => (l.Key, l.Value!.GetValue<string>())));

    private static string Key(IEnumerable<(string Name, string Value)> labels) =>
        string.Join(',', labels.OrderBy(l => l.Name, StringComparer.Ordinal).Select(l => $"{l.Name}={l.Value}"));

    private static async Task PostAsync(HttpClient http, JsonObject[] alerts)
    {
        var body = new JsonArray([.. alerts.Select(a => a.DeepClone())]);
        using var response = await http.PostAsJsonAsync("/api/v2/alerts", body);
        Assert.True(response.IsSuccessStatusCode, $"POST /api/v2/alerts: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Alertmanager's view of each posted alert: state, and the alertnames of the alerts inhibiting it.</summary>
    private static async Task<Dictionary<string, (string State, string[] By)>> StatesAsync(HttpClient http, Dictionary<string, JsonObject> posted)
    {
        using var document = JsonDocument.Parse(await http.GetStringAsync("/api/v2/alerts"));
        var byFingerprint = document.RootElement.EnumerateArray()
            .ToDictionary(a => a.GetProperty("fingerprint").GetString()!, a => Key(a.GetProperty("labels").EnumerateObject().Select(l => (l.Name, l.Value.GetString()!))), StringComparer.Ordinal);
        var states = new Dictionary<string, (string State, string[] By)>(StringComparer.Ordinal);
        foreach (var alert in document.RootElement.EnumerateArray())
        {
            var key = Key(alert.GetProperty("labels").EnumerateObject().Select(l => (l.Name, l.Value.GetString()!)));
            if (!posted.ContainsKey(key))
            {
                continue;
            }

            var status = alert.GetProperty("status");
            var by = status.GetProperty("inhibitedBy").EnumerateArray()
                .Select(f => byFingerprint.TryGetValue(f.GetString()!, out var source) ? AlertName(source) : f.GetString()!)
                .Distinct(StringComparer.Ordinal)
                .ToArray();
            states[key] = (status.GetProperty("state").GetString()!, by);
        }

        return states;
    }

    private static string AlertName(string key) =>
        key.Split(',').Single(l => l.StartsWith("alertname=", StringComparison.Ordinal))["alertname=".Length..];

    private static async Task<JsonElement> NextFor(FakeRebalancer rebalancer, string status, RenderedAlertmanager alertmanager)
    {
        while (true)
        {
            var delivery = await rebalancer.NextDeliveryAsync(Patience, () => alertmanager.Output);
            using var payload = JsonDocument.Parse(delivery.Body);
            if (payload.RootElement.GetProperty("status").GetString() == status)
            {
                return payload.RootElement.Clone();
            }
        }
    }

    private static async Task WaitReadyAsync(HttpClient http, RenderedAlertmanager alertmanager)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(alertmanager.HasExited, alertmanager.Output);
            try
            {
                using var response = await http.GetAsync("/-/ready");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(200);
        }

        Assert.Fail($"Alertmanager not ready within {Patience}:\n{alertmanager.Output}");
    }
}
