using System.Globalization;
using System.Text.Json.Nodes;

namespace Loadshift.Faults.Tests;

/// <summary>Alertmanager webhook payloads, from the real ones tests/Rebalancer.Tests keeps (Payloads/, copied here).</summary>
public static class Payloads
{
    public static string Directory => Path.Combine(AppContext.BaseDirectory, "Payloads");

    /// <summary>Every real payload, parsed.</summary>
    public static IReadOnlyList<string> All { get; } =
        [.. System.IO.Directory.GetFiles(Directory, "*.json").Order(StringComparer.Ordinal).Select(File.ReadAllText)];

    /// <summary>HypervisorCpuHigh firing on <paramref name="host"/>, as Alertmanager sends it (firing-hv1.json).</summary>
    public static string Firing(string host, string fingerprint, DateTimeOffset startsAt) => CpuHigh("firing", host, fingerprint, startsAt, null);

    /// <summary>The same alert resolved.</summary>
    public static string Resolved(string host, string fingerprint, DateTimeOffset startsAt) =>
        CpuHigh("resolved", host, fingerprint, startsAt, DateTimeOffset.UtcNow);

    private static string CpuHigh(string status, string host, string fingerprint, DateTimeOffset startsAt, DateTimeOffset? endsAt)
    {
        var payload = JsonNode.Parse(File.ReadAllText(Path.Combine(Directory, "firing-hv1.json")))!;
        payload["status"] = status;
        var alert = payload["alerts"]![0]!;
        alert["status"] = status;
        alert["labels"]!["host"] = host;
        alert["fingerprint"] = fingerprint;
        alert["startsAt"] = startsAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        alert["endsAt"] = endsAt?.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture) ?? "0001-01-01T00:00:00Z";
        payload["groupLabels"]!["host"] = host;
        payload["commonLabels"]!["host"] = host;
        payload["groupKey"] = $"{{}}/{{action=\"rebalance\"}}:{{alertname=\"HypervisorCpuHigh\", host=\"{host}\"}}";
        return payload.ToJsonString();
    }
}
