using System.Globalization;
using System.Text;

namespace Loadshift.Lab.Demo;

/// <summary>The closing table, the same figures as timeline.json.</summary>
internal static class Summary
{
    public static string Format(DemoReport r)
    {
        var rows = new List<(string What, string Value)>
        {
            ("outcome", r.Outcome + (r.Failure is null ? "" : $": {r.Failure}")),
            ($"load start -> {r.LoadedHost} over {Loadshift.Lab.Demo.Format.Percent(r.HighWatermark)} (alert pending)", Sec(r.LoadToOverloadSeconds)),
            ($"overload -> alert firing (for {r.CpuHighFor})", Sec(r.OverloadToAlertSeconds)),
            ("alert firing -> webhook received", Sec(r.AlertToWebhookSeconds)),
            ("alert firing -> decision", Sec(r.AlertToDecisionSeconds)),
            ("decision -> migration done", Sec(r.DecisionToMigrationDoneSeconds)),
            ("alert firing -> resolved", Sec(r.AlertToResolvedSeconds)),
            ($"load stop -> every VM home (low watermark held {r.ReturnHomeAfter})", Sec(r.LoadStopToHomeSeconds)),
        };
        foreach (var m in r.Migrations)
        {
            rows.Add(($"migration {m.Domain} {m.Source}->{m.Target} ({m.Kind})",
                $"{Sec(m.Seconds)} {m.Result}; probes failed {m.ProbesFailed} of {m.ProbesSent}, longest outage {m.LongestOutageSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s"));
        }
        rows.Add(($"{r.LoadedHost} busy: idle / before / after", $"{Pct(r.LoadedHostBusyIdle)} / {Pct(r.LoadedHostBusyBefore)} / {Pct(r.LoadedHostBusyAfter)}"));
        foreach (var vm in r.LatencyBefore.Select(l => l.Vm).Union(r.LatencyAfter.Select(l => l.Vm)))
        {
            var b = r.LatencyBefore.FirstOrDefault(l => l.Vm == vm);
            var a = r.LatencyAfter.FirstOrDefault(l => l.Vm == vm);
            rows.Add(($"{vm} CGI latency p50/p95 before -> after", $"{Lat(b)} -> {Lat(a)}"));
        }
        foreach (var p in r.Probes)
        {
            rows.Add(($"{p.Vm} probes (whole run)", $"{p.Failed} of {p.Sent} failed, longest outage {p.LongestOutageSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s"));
        }
        rows.Add(("placement checks (each VM on one host)", $"{r.PlacementChecks}, problems {r.PlacementProblems.Count}"));
        rows.Add(("journal agrees with libvirt", r.JournalAgreesWithLibvirt ? "yes" : "NO: " + string.Join("; ", r.JournalMismatches)));

        var width = rows.Max(x => x.What.Length);
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"| {"step".PadRight(width)} | value |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| {new string('-', width)} | --- |");
        foreach (var (what, value) in rows)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {what.PadRight(width)} | {value} |");
        }
        return text.ToString();
    }

    private static string Sec(double? seconds) => seconds is { } s ? s.ToString("0.0", CultureInfo.InvariantCulture) + " s" : "-";

    private static string Pct(double? ratio) => ratio is { } v ? (v * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%" : "-";

    private static string Lat(LatencyFigures? l) => l switch
    {
        null => "-",
        { P50Ms: { } p50, P95Ms: { } p95 } => string.Create(CultureInfo.InvariantCulture, $"{p50:0}/{p95:0} ms ({l.Failed} of {l.Sent} failed)"),
        _ => $"no answer ({l.Failed} of {l.Sent} failed)",
    };
}
