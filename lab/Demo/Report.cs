using System.Text.Json;

namespace Loadshift.Lab.Demo;

/// <summary>One step of the timeline; <see cref="T"/> is seconds since the load started (negative before).</summary>
internal sealed record TimelineEvent(DateTimeOffset At, double T, string Kind, string Text,
    string? Domain = null, string? Source = null, string? Target = null);

/// <summary>One migration as the journal has it, with the probes of the moved VM around it (from 1 s before its
/// start to 2 s after its end, as lab/migrate counts them).</summary>
internal sealed record MigrationFigures(
    long Id,
    string Domain,
    string Source,
    string Target,
    string Kind,
    DateTimeOffset? DecidedAt,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt,
    double? Seconds,
    string Result,
    int ProbesSent,
    int ProbesFailed,
    double LongestOutageSeconds);

/// <summary>Where libvirt ran each VM at one check, and what was wrong with it (a VM running on two hosts, or on
/// none outside its own migration).</summary>
internal sealed record PlacementCheck(DateTimeOffset At, IReadOnlyDictionary<string, IReadOnlyList<string>?> Hosts,
    IReadOnlyList<string> Problems);

/// <summary>lab/load's figures for one VM in one phase; no percentiles when none of its requests was answered.</summary>
internal sealed record LatencyFigures(string Vm, int Sent, int Succeeded, int Failed, double? P50Ms, double? P95Ms)
{
    /// <summary>The per-VM figures of lab/load's --json report. A VM that answered nothing has null percentiles there
    /// and keeps them null here: it must not cost the other VMs their figures (a CI run of 2026-12-07 lost the whole
    /// "after" phase to one wedged guest).</summary>
    public static IReadOnlyList<LatencyFigures> FromLoadReport(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return [.. doc.RootElement.GetProperty("targets").EnumerateArray().Select(t =>
        {
            var latency = t.GetProperty("latencyMs");
            return new LatencyFigures(t.GetProperty("vm").GetString()!, t.GetProperty("sent").GetInt32(),
                t.GetProperty("succeeded").GetInt32(), t.GetProperty("failed").GetInt32(),
                Milliseconds(latency, "p50"), Milliseconds(latency, "p95"));
        })];
    }

    private static double? Milliseconds(JsonElement latency, string name) =>
        latency.GetProperty(name) is { ValueKind: JsonValueKind.Number } value ? value.GetDouble() : null;
}

/// <summary>The prober's figures for one VM over the whole run.</summary>
internal sealed record ProbeFigures(string Vm, int Sent, int Failed, double LongestOutageSeconds);

/// <summary>Everything the demo measured: written as timeline.json, read by tests/Demo.Tests.</summary>
internal sealed class DemoReport
{
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public bool Fast { get; set; }
    public double RatePerVm { get; set; }
    public double HighWatermark { get; set; }
    public string CpuHighFor { get; set; } = "";
    public string ReturnHomeAfter { get; set; } = "";
    public string Outcome { get; set; } = "running";
    public string? Failure { get; set; }
    public string LoadedHost { get; set; } = "";
    public DateTimeOffset? LoadStartedAt { get; set; }
    public DateTimeOffset? AlertPendingAt { get; set; }
    public DateTimeOffset? AlertFiringAt { get; set; }
    public DateTimeOffset? FirstWebhookAt { get; set; }
    public DateTimeOffset? FirstDecisionAt { get; set; }
    public DateTimeOffset? FirstMigrationDoneAt { get; set; }
    public DateTimeOffset? AlertResolvedAt { get; set; }
    public DateTimeOffset? LoadStoppedAt { get; set; }
    public DateTimeOffset? AllHomeAt { get; set; }
    public double? LoadToOverloadSeconds => Seconds(LoadStartedAt, AlertPendingAt);
    public double? OverloadToAlertSeconds => Seconds(AlertPendingAt, AlertFiringAt);
    public double? AlertToWebhookSeconds => Seconds(AlertFiringAt, FirstWebhookAt);
    public double? AlertToDecisionSeconds => Seconds(AlertFiringAt, FirstDecisionAt);
    public double? DecisionToMigrationDoneSeconds => Seconds(FirstDecisionAt, FirstMigrationDoneAt);
    public double? AlertToResolvedSeconds => Seconds(AlertFiringAt, AlertResolvedAt);
    public double? LoadStopToHomeSeconds => Seconds(LoadStoppedAt, AllHomeAt);
    public double? LoadedHostBusyIdle { get; set; }
    public double? LoadedHostBusyBefore { get; set; }
    public double? LoadedHostBusyAfter { get; set; }
    public string BusyBeforeWindow { get; set; } = "";
    public string BusyAfterWindow { get; set; } = "";
    public IReadOnlyList<LatencyFigures> LatencyBefore { get; set; } = [];
    public IReadOnlyList<LatencyFigures> LatencyAfter { get; set; } = [];
    public IReadOnlyList<MigrationFigures> Migrations { get; set; } = [];
    public IReadOnlyList<ProbeFigures> Probes { get; set; } = [];
    public int PlacementChecks { get; set; }
    public IReadOnlyList<string> PlacementProblems { get; set; } = [];
    public IReadOnlyDictionary<string, IReadOnlyList<string>?> FinalPlacement { get; set; } =
        new Dictionary<string, IReadOnlyList<string>?>();
    public bool JournalAgreesWithLibvirt { get; set; }
    public IReadOnlyList<string> JournalMismatches { get; set; } = [];
    public IReadOnlyList<TimelineEvent> Events { get; set; } = [];
    public IReadOnlyList<PlacementCheck> PlacementSamples { get; set; } = [];

    private static double? Seconds(DateTimeOffset? from, DateTimeOffset? to) =>
        from is { } a && to is { } b ? Math.Round((b - a).TotalSeconds, 1) : null;
}
