using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Loadshift.Lab.Demo;

/// <summary>An alert as Prometheus' /api/v1/alerts lists it (pending or firing).</summary>
internal sealed record PrometheusAlert(string Name, string Host, string State, DateTimeOffset ActiveAt);

/// <summary>Prometheus' HTTP API: the alerts (the ALERTS series' source) and instant queries.</summary>
internal sealed class PrometheusApi(HttpClient http, Uri baseUrl)
{
    public async Task<IReadOnlyList<PrometheusAlert>> AlertsAsync(CancellationToken cancellationToken)
    {
        using var doc = await GetAsync("api/v1/alerts", cancellationToken);
        return [.. doc.RootElement.GetProperty("data").GetProperty("alerts").EnumerateArray().Select(a => new PrometheusAlert(
            a.GetProperty("labels").GetProperty("alertname").GetString() ?? "",
            a.GetProperty("labels").TryGetProperty("host", out var host) ? host.GetString() ?? "" : "",
            a.GetProperty("state").GetString() ?? "",
            a.GetProperty("activeAt").GetDateTimeOffset()))];
    }

    /// <summary>The first sample of an instant query at <paramref name="at"/>, or null when it has none.</summary>
    public async Task<double?> ScalarAsync(string query, DateTimeOffset? at, CancellationToken cancellationToken)
    {
        var path = "api/v1/query?query=" + Uri.EscapeDataString(query);
        if (at is { } time)
        {
            path += "&time=" + (time.ToUnixTimeMilliseconds() / 1000.0).ToString("F3", CultureInfo.InvariantCulture);
        }
        using var doc = await GetAsync(path, cancellationToken);
        var result = doc.RootElement.GetProperty("data").GetProperty("result");
        if (result.GetArrayLength() == 0)
        {
            return null;
        }
        var value = result[0].GetProperty("value")[1].GetString();
        return double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v : null;
    }

    private async Task<JsonDocument> GetAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(new Uri(baseUrl, path), cancellationToken);
        response.EnsureSuccessStatusCode();
        return await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), default, cancellationToken);
    }
}

internal sealed record JournalPage<T>(IReadOnlyList<T> Items, long? NextBefore);

internal sealed record ReceiptEntry(long Id, DateTimeOffset ReceivedAt, string? Status, int AlertCount);

internal sealed record DecisionEntry(long Id, DateTimeOffset At, string Kind, string Host, string Outcome, string Reason,
    string Detail, string? Domain, string? Source, string? Target, double? SourceBusyBefore, double? SourceBusyAfter);

internal sealed record MigrationEntry(long Id, long? DecisionId, string Domain, string Source, string Target, string? Kind,
    DateTimeOffset StartedAt, DateTimeOffset? EndedAt, string Result, string? Placement);

internal sealed record StatusHost(string Name, bool Reachable, double? BusyRatio, bool AlertFiring, IReadOnlyList<string> Domains);

internal sealed record AwayEntry(string Domain, string Host, string HomeHost);

internal sealed record RebalancerStatus(IReadOnlyList<StatusHost> Hosts, IReadOnlyList<AwayEntry> DomainsAwayFromHome);

/// <summary>The Rebalancer's API (docs/rebalancer.md): its journal and status, with the webhook's bearer token.</summary>
internal sealed class RebalancerApi(HttpClient http, Uri baseUrl, string token)
{
    public Task<JournalPage<ReceiptEntry>> ReceiptsAsync(CancellationToken ct) => JournalAsync<ReceiptEntry>("receipts", ct);

    public Task<JournalPage<DecisionEntry>> DecisionsAsync(CancellationToken ct) => JournalAsync<DecisionEntry>("decisions", ct);

    public Task<JournalPage<MigrationEntry>> MigrationsAsync(CancellationToken ct) => JournalAsync<MigrationEntry>("migrations", ct);

    public Task<RebalancerStatus> StatusAsync(CancellationToken ct) => GetAsync<RebalancerStatus>("api/v1/status", ct);

    private Task<JournalPage<T>> JournalAsync<T>(string kind, CancellationToken ct) =>
        GetAsync<JournalPage<T>>($"api/v1/journal?kind={kind}&limit=200", ct);

    private async Task<T> GetAsync<T>(string path, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(baseUrl, path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request, ct);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<T>(DemoJson.Options, ct)
            ?? throw new InvalidDataException($"{path}: empty answer");
    }
}

/// <summary>Where libvirt runs each VM: <c>virsh -c URI list --name --state-running</c> on every host. A VM in an
/// incoming migration is paused on its target, so it counts on one host only until the switch-over.</summary>
internal sealed class Libvirt(LabState lab)
{
    /// <summary>Host name to its running domains; a host that does not answer maps to null.</summary>
    public async Task<IReadOnlyDictionary<string, IReadOnlyList<string>?>> PlacementAsync(CancellationToken ct)
    {
        var lists = await Task.WhenAll(lab.Hosts.Select(async h =>
        {
            var result = await Commands.RunAsync("virsh", ["-q", "-c", h.LibvirtUri, "list", "--name", "--state-running"],
                TimeSpan.FromSeconds(15), ct);
            IReadOnlyList<string>? domains = result.Succeeded
                ? [.. result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Order(StringComparer.Ordinal)]
                : null;
            return (h.Name, domains);
        }));
        return lists.ToDictionary(l => l.Name, l => l.domains, StringComparer.Ordinal);
    }
}
