using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Loadshift.Simulator.Simulation;
using Spectre.Console;

namespace Loadshift.Simulator.Output;

/// <summary>The per-policy figures: a table on the terminal, JSON and markdown for files.</summary>
public static class Report
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static Table Table(IReadOnlyList<PolicyResult> results)
    {
        var table = new Table().AddColumns("policy", "overload time", "unserved core-s", "migrations", "migrated GiB", "undone <1h",
            "hard-rule violations", "not helped");
        foreach (var r in results)
        {
            table.AddRow(Row(r));
        }
        return table;
    }

    public static string Markdown(IReadOnlyList<PolicyResult> results)
    {
        var lines = new List<string>
        {
            "| policy | overload time | unserved core-s | migrations | migrated GiB | undone <1h | hard-rule violations | not helped |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        };
        lines.AddRange(results.Select(r => $"| {string.Join(" | ", Row(r))} |"));
        return string.Join('\n', lines) + "\n";
    }

    private static string[] Row(PolicyResult r) =>
    [
        r.Policy,
        r.OverloadTimeFraction.ToString("0.00%", CultureInfo.InvariantCulture),
        r.UnservedCoreSeconds.ToString("#,0", CultureInfo.InvariantCulture),
        r.Migrations.ToString(CultureInfo.InvariantCulture),
        (r.MigratedBytes / (double)(1L << 30)).ToString("#,0.0", CultureInfo.InvariantCulture),
        r.MovesUndone.ToString(CultureInfo.InvariantCulture),
        r.HardRuleViolations.ToString(CultureInfo.InvariantCulture),
        r.MovesNotHelped.ToString(CultureInfo.InvariantCulture),
    ];

    /// <summary>One object per policy, with the keys the issue names.</summary>
    public static string ToJson(IReadOnlyList<PolicyResult> results) =>
        JsonSerializer.Serialize(results.Select(r => new PolicyFigures(r.Policy, r.OverloadTimeFraction, r.UnservedCoreSeconds, r.Migrations,
            r.MigratedBytes, r.MovesUndone, r.HardRuleViolations, r.MovesNotHelped)).ToList(), Json);

    private sealed record PolicyFigures(
        [property: JsonPropertyName("policy")] string Policy,
        [property: JsonPropertyName("overload_time_fraction")] double OverloadTimeFraction,
        [property: JsonPropertyName("unserved_core_seconds")] double UnservedCoreSeconds,
        [property: JsonPropertyName("migrations")] int Migrations,
        [property: JsonPropertyName("migrated_bytes")] long MigratedBytes,
        [property: JsonPropertyName("moves_undone")] int MovesUndone,
        [property: JsonPropertyName("hard_rule_violations")] int HardRuleViolations,
        [property: JsonPropertyName("moves_not_helped")] int MovesNotHelped);
}
