using Spectre.Console;
using Spectre.Console.Rendering;

namespace Loadshift.Cli.Views;

/// <summary><c>loadshift watch</c>: the hosts' bars, each migration in flight as a progress bar, the moves waiting for
/// approval and the latest decisions, redrawn every second.</summary>
internal static class WatchView
{
    public static IRenderable Render(Status? status, History? history, string? error, Uri url, DateTimeOffset now)
    {
        var rows = new List<IRenderable>
        {
            new Markup($"[bold]loadshift watch[/] {Markup.Escape(url.ToString())}  {Bars.Clock(now)}Z  [grey](Ctrl-C to stop)[/]"),
        };
        if (error is not null)
        {
            rows.Add(new Markup($"[red]{Markup.Escape(error)}[/]"));
        }
        if (status is not null)
        {
            var policy = status.Policy ?? new StatusPolicy(0.80, 0.50, "full", null);
            rows.Add(new Markup($"automation [bold]{Markup.Escape(policy.Automation)}[/]{(status.DryRun ? "  [yellow]dry run[/]" : "")}"));
            rows.Add(StatusView.Hosts(status, policy));
            rows.Add(StatusView.Migrations(status));
            rows.Add(StatusView.Recommendations(status));
        }
        if (history is not null)
        {
            rows.Add(DecisionView.Decisions(history.Decisions, "Latest decisions"));
        }
        return new Rows(rows);
    }
}
