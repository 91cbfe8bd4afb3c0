using System.Text.Json;
using System.Text.Json.Serialization;

namespace Loadshift.Lab.Tests;

/// <summary>The Lab tests share one lab: they run one at a time (a migration would skew a CPU measurement).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SharedLab
{
    public const string Name = "Lab";
}

/// <summary>lab/load --json, the parts the tests read.</summary>
internal sealed record LoadReport(IReadOnlyList<LoadTarget> Targets);

internal sealed record LoadTarget(
    string Vm,
    int Sent,
    int Succeeded,
    int Failed,
    int Slow,
    double ThroughputPerSecond,
    LoadLatency LatencyMs);

internal sealed record LoadLatency(double? P50, double? P95, double? P99, double? Max);

/// <summary>lab/migrate --json.</summary>
internal sealed record MigrationReport(
    string Vm,
    string From,
    string To,
    bool Migrated,
    double MigrationSeconds,
    LoadTarget Probes);

internal static class LabJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNameCaseInsensitive = true,
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
    };

    public static T Parse<T>(string json) =>
        JsonSerializer.Deserialize<T>(json, Options) ?? throw new InvalidOperationException($"empty JSON: {json}");
}
