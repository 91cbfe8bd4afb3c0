using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Loadshift.Cli.Views;

/// <summary><c>loadshift explain</c>, <c>plan</c> and <c>history</c>: decisions with what the planner weighed.</summary>
internal static class DecisionView
{
    public static IRenderable Explain(Explanation explanation)
    {
        var d = explanation.Decision;
        var rows = new List<IRenderable>
        {
            new Markup($"[bold]Decision {d.Id}[/] at {Bars.Time(d.At)}: {Markup.Escape(d.Kind)} about {Markup.Escape(d.Host)}, " +
                $"{Outcome(d.Outcome, d.DryRun)} ({Markup.Escape(d.Reason)})"),
            new Markup(Markup.Escape(d.Detail)),
        };
        if (explanation.Considered is null)
        {
            rows.Add(new Markup("[grey]Journaled before explanations were kept: no moves or rejections recorded.[/]"));
        }
        else
        {
            rows.Add(Considered(explanation.Considered));
            rows.Add(Rejected(explanation.Rejected ?? []));
        }
        if (explanation.Migrations.Count > 0)
        {
            rows.Add(Migrations(explanation.Migrations, "Migrations"));
        }
        return new Rows(rows);
    }

    public static IRenderable Plan(Plan plan)
    {
        var rows = new List<IRenderable> { new Markup($"[bold]What the Rebalancer would decide now[/] ({Bars.Time(plan.At)}; nothing is journaled or moved)") };
        foreach (var d in plan.Decisions)
        {
            var about = d.Host.Length == 0 ? d.Kind : $"{d.Kind} {d.Host}";
            rows.Add(new Rule($"{Markup.Escape(about)}: {Outcome(d.Outcome, false)} ({Markup.Escape(d.Reason)})").LeftJustified());
            rows.Add(new Markup(Markup.Escape(d.Detail)));
            if (d.Considered is { Count: > 0 } considered)
            {
                rows.Add(Considered(considered));
            }
            if (d.Rejected is { Count: > 0 } rejected)
            {
                rows.Add(Rejected(rejected));
            }
        }
        return new Rows(rows);
    }

    public static IRenderable History(History history)
    {
        return new Rows(Decisions(history.Decisions, "Decisions"), Migrations(history.Migrations, "Migrations"));
    }

    public static Table Decisions(IEnumerable<DecisionRecord> decisions, string title)
    {
        var table = new Table().Border(TableBorder.Simple).Title($"[bold]{title}[/]").AddColumns("ID", "AT", "KIND", "HOST", "OUTCOME", "REASON", "MOVE");
        foreach (var d in decisions)
        {
            table.AddRow(Id(d.Id), Bars.Time(d.At), Markup.Escape(d.Kind), Markup.Escape(d.Host), Outcome(d.Outcome, d.DryRun), Markup.Escape(d.Reason),
                d.Domain is null ? "" : Markup.Escape($"{d.Domain} {d.Source} -> {d.Target}"));
        }
        return table;
    }

    private static Table Migrations(IEnumerable<MigrationRecord> migrations, string title)
    {
        var table = new Table().Border(TableBorder.Simple).Title($"[bold]{title}[/]").AddColumns("ID", "DECISION", "DOMAIN", "MOVE", "STARTED", "TOOK", "OUTCOME");
        foreach (var m in migrations)
        {
            var took = m.EndedAt is { } ended ? $"{(ended - m.StartedAt).TotalSeconds:0.0} s" : "";
            var colour = m.Outcome switch { "succeeded" => "green", "running" => "blue", _ => "red" };
            table.AddRow(Id(m.Id), m.DecisionId is { } decision ? Id(decision) : "", Markup.Escape(m.Domain), Markup.Escape($"{m.Source} -> {m.Target}"),
                Bars.Time(m.StartedAt), took, $"[{colour}]{Markup.Escape(m.Outcome)}[/]");
        }
        return table;
    }

    private static Table Considered(IReadOnlyList<ConsideredMove> considered)
    {
        var table = new Table().Border(TableBorder.Simple).Title("[bold]Moves weighed[/]")
            .AddColumns("", "DOMAIN", "TARGET", "SHARE", "SOURCE AFTER", "TARGET AFTER", "COST (COPY)", "SOFT RULES BROKEN");
        foreach (var c in considered)
        {
            var p = c.Plan;
            table.AddRow(c.Chosen ? "[green]chosen[/]" : "", Markup.Escape(p.Domain), Markup.Escape(p.Target), Bars.Share(p.DomainShare),
                $"{Bars.Share(p.SourceBusyBefore)} -> {Bars.Share(p.SourceBusyAfter)}", $"{Bars.Share(p.TargetBusyBefore)} -> {Bars.Share(p.TargetBusyAfter)}",
                c.Cost is { } cost ? cost.ToString("0.0", CultureInfo.InvariantCulture) + " s" : "[grey]-[/]",
                Markup.Escape(string.Join("; ", c.SoftBroken ?? [])));
        }
        if (considered.Count == 0)
        {
            table.AddRow("", "[grey]none[/]", "", "", "", "", "", "");
        }
        return table;
    }

    private static Table Rejected(IReadOnlyList<Rejection> rejected)
    {
        var table = new Table().Border(TableBorder.Simple).Title("[bold]Targets rejected[/]").AddColumns("DOMAIN", "TARGET", "RULE", "WHY");
        foreach (var r in rejected)
        {
            table.AddRow(Markup.Escape(r.Domain), Markup.Escape(r.Target), Markup.Escape(r.Rule), Markup.Escape(r.Reason));
        }
        if (rejected.Count == 0)
        {
            table.AddRow("[grey]none[/]", "", "", "");
        }
        return table;
    }

    private static string Outcome(string outcome, bool dryRun) =>
        outcome == "migrate" ? (dryRun ? "[yellow]migrate (dry run)[/]" : "[green]migrate[/]") : Markup.Escape(outcome);

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);
}
