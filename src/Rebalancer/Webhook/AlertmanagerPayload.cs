using System.Text.Json.Serialization;

namespace Loadshift.Rebalancer.Webhook;

/// <summary>Alertmanager's webhook notification, version 4, as Alertmanager writes it
/// (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config).</summary>
public sealed record AlertmanagerPayload(
    [property: JsonPropertyName("version")] string? Version,
    [property: JsonPropertyName("groupKey")] string? GroupKey,
    [property: JsonPropertyName("truncatedAlerts")] int TruncatedAlerts,
    [property: JsonPropertyName("status")] string? Status,
    [property: JsonPropertyName("receiver")] string? Receiver,
    [property: JsonPropertyName("groupLabels")] IReadOnlyDictionary<string, string>? GroupLabels,
    [property: JsonPropertyName("commonLabels")] IReadOnlyDictionary<string, string>? CommonLabels,
    [property: JsonPropertyName("commonAnnotations")] IReadOnlyDictionary<string, string>? CommonAnnotations,
    [property: JsonPropertyName("externalURL")] string? ExternalUrl,
    [property: JsonPropertyName("alerts")] IReadOnlyList<AlertmanagerAlert>? Alerts);

/// <param name="Status">firing or resolved.</param>
/// <param name="EndsAt">0001-01-01T00:00:00Z for every firing alert, even when Alertmanager knows when it will end
/// (its types.Alerts hides an end not reached yet; checked with Alertmanager 0.25): no use for expiring one.</param>
public sealed record AlertmanagerAlert(
    [property: JsonPropertyName("status")] string? Status,
    [property: JsonPropertyName("labels")] IReadOnlyDictionary<string, string>? Labels,
    [property: JsonPropertyName("annotations")] IReadOnlyDictionary<string, string>? Annotations,
    [property: JsonPropertyName("startsAt")] DateTimeOffset? StartsAt,
    [property: JsonPropertyName("endsAt")] DateTimeOffset? EndsAt,
    [property: JsonPropertyName("generatorURL")] string? GeneratorUrl,
    [property: JsonPropertyName("fingerprint")] string? Fingerprint);

/// <summary>What the webhook answers once the notification is in the journal.</summary>
/// <param name="Relevant">Alerts the Rebalancer acts on (the configured alert name with action="rebalance" and a host
/// from the inventory) whose state the notification changed; the others are journaled and ignored.</param>
/// <param name="Stale">Alerts the journal knows from a later firing (their startsAt is older): their state stays.</param>
/// <param name="TruncatedAlerts">Alerts of the group Alertmanager left out (its webhook_configs max_alerts), as it said
/// in the payload: their state is not in this notification.</param>
public sealed record WebhookReceipt(long ReceiptId, int Alerts, int Relevant, int Stale, int TruncatedAlerts);

[JsonSerializable(typeof(AlertmanagerPayload))]
[JsonSerializable(typeof(IReadOnlyDictionary<string, string>))]
internal sealed partial class WebhookJsonContext : JsonSerializerContext;
