using Spectre.Console;
using Spectre.Console.Rendering;

namespace Loadshift.Cli.Views;

/// <summary><c>loadshift status</c>: the hosts with their CPU and memory against the watermarks, their domains (those
/// away from home marked), alerts, hard rules broken, migrations in flight, moves waiting for approval, the last
/// decision.</summary>
internal static class StatusView
{
    public static IRenderable Render(Status status, Uri url)
    {
        var policy = status.Policy ?? new StatusPolicy(0.80, 0.50, "full", null);
        var rows = new List<IRenderable>
        {
            new Markup($"[bold]Rebalancer {Markup.Escape(status.Version)}[/] at {Markup.Escape(url.ToString())}  automation [bold]{Markup.Escape(policy.Automation)}[/]" +
                $"{(status.DryRun ? "  [yellow]dry run[/]" : "")}  watermarks {Bars.Share(policy.LowWatermark)} / {Bars.Share(policy.HighWatermark)}" +
                $"{(status.SnapshotAt is { } at ? $"  seen {Bars.Clock(at)}Z" : "")}"),
        };
        if (status.MetricsError is { } error)
        {
            rows.Add(new Markup($"[red]Prometheus: {Markup.Escape(error)}[/]"));
        }
        rows.Add(Hosts(status, policy));
        if (status.DomainsAwayFromHome.Count > 0)
        {
            var away = new Table().Border(TableBorder.Simple).Title("[bold]Away from home[/]").AddColumns("DOMAIN", "ON", "HOME", "WHY");
            foreach (var a in status.DomainsAwayFromHome)
            {
                away.AddRow(Markup.Escape(a.Domain), Markup.Escape(a.Host), Markup.Escape(a.HomeHost),
                    Markup.Escape(a.Reason is null ? "moved by hand, or before the journal" : $"{a.Reason} (migration {a.MigrationId})"));
            }
            rows.Add(away);
        }
        rows.Add(BrokenRules(status));
        rows.Add(Migrations(status));
        rows.Add(Recommendations(status));
        if (status.LastDecision is { } last)
        {
            rows.Add(new Markup($"[bold]Last decision[/] {last.Id} at {Bars.Time(last.At)}: {Markup.Escape(last.Kind)} {Markup.Escape(last.Host)} " +
                $"{Markup.Escape(last.Outcome)} ({Markup.Escape(last.Reason)})"));
        }
        return new Rows(rows);
    }

    public static Table Hosts(Status status, StatusPolicy policy)
    {
        var away = status.DomainsAwayFromHome.ToDictionary(a => a.Domain, a => a.HomeHost, StringComparer.Ordinal);
        var table = new Table().Border(TableBorder.Simple).AddColumns("HOST", "CPU", "MEMORY", "STATE", "DOMAINS (CPU share)");
        foreach (var host in status.Hosts)
        {
            double? memory = host is { MemoryBytes: > 0, MemoryAvailableBytes: { } available }
                ? 1 - ((double)available / host.MemoryBytes.Value)
                : null;
            var state = new List<string>();
            if (!host.Reachable)
            {
                state.Add("[red]unreachable[/]");
            }
            if (host.AlertFiring)
            {
                state.Add("[red]cpu alert[/]");
            }
            if (host.Maintenance)
            {
                state.Add("[yellow]maintenance[/]");
            }
            var domains = host.Domains.Select(d =>
            {
                var share = host.DomainCpuShares.TryGetValue(d, out var s) ? $" {Bars.Share(s)}" : "";
                return away.TryGetValue(d, out var home) ? $"[yellow]{Markup.Escape(d)}[/]{share} [grey](home {Markup.Escape(home)})[/]" : $"{Markup.Escape(d)}{share}";
            });
            table.AddRow(Markup.Escape(host.Name), Bars.Ratio(host.BusyRatio, policy.HighWatermark, policy.LowWatermark),
                // Memory has one watermark (policy.memoryHighWatermark): under it green, over it red.
                Bars.Ratio(memory, policy.MemoryHighWatermark ?? policy.HighWatermark, policy.MemoryHighWatermark ?? policy.LowWatermark, 10),
                state.Count == 0 ? "[green]ok[/]" : string.Join(", ", state), string.Join(", ", domains));
        }
        return table;
    }

    /// <summary>Hard placement rules the placement breaks (a migration by hand, say): the rule repair's work, and
    /// RebalancerRuleViolated's when no single move repairs one.</summary>
    public static IRenderable BrokenRules(Status status)
    {
        if (status.RuleViolations is not { Count: > 0 } broken)
        {
            return new Markup("[bold]Broken rules[/] none");
        }
        var table = new Table().Border(TableBorder.Simple).Title("[bold red]Broken rules[/]").AddColumns("RULE", "HOST", "DOMAINS", "WHY");
        foreach (var v in broken)
        {
            table.AddRow(Markup.Escape(v.Rule), Markup.Escape(v.Host), Markup.Escape(string.Join(", ", v.Domains)), Markup.Escape(v.Detail));
        }
        return table;
    }

    public static IRenderable Migrations(Status status)
    {
        var progress = (status.Progress ?? []).ToDictionary(p => p.Domain, StringComparer.Ordinal);
        if (status.MigrationsInFlight.Count == 0)
        {
            return new Markup("[bold]Migrations in flight[/] none");
        }
        var table = new Table().Border(TableBorder.Simple).Title("[bold]Migrations in flight[/]").AddColumns("DOMAIN", "MOVE", "SINCE", "COPIED");
        foreach (var m in status.MigrationsInFlight)
        {
            table.AddRow(Markup.Escape(m.Domain), Markup.Escape($"{m.Source} -> {m.Target}"), Bars.Clock(m.StartedAt),
                Bars.Progress(progress.GetValueOrDefault(m.Domain)?.Job));
        }
        return table;
    }

    public static IRenderable Recommendations(Status status)
    {
        if (status.Recommendations is not { Count: > 0 } waiting)
        {
            return new Markup("[bold]Waiting for approval[/] none");
        }
        var table = new Table().Border(TableBorder.Simple).Title("[bold]Waiting for approval[/]").AddColumns("ID", "MOVE", "KIND", "EXPIRES", "APPROVE WITH");
        foreach (var r in waiting)
        {
            table.AddRow(r.DecisionId.ToString(System.Globalization.CultureInfo.InvariantCulture), Markup.Escape($"{r.Domain} {r.Source} -> {r.Target}"),
                Markup.Escape(r.Kind), Bars.Clock(r.ExpiresAt), $"loadshift approve {r.DecisionId}");
        }
        return table;
    }
}
