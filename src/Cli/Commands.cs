using System.CommandLine;
using System.CommandLine.Completions;
using System.Globalization;
using System.Text.Json;
using Loadshift.Cli.Views;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Loadshift.Cli;

/// <summary>The verbs of <c>loadshift</c>, each one call (or, for watch, one call a second) to the Rebalancer's API.</summary>
internal static class Commands
{
    private static readonly Option<string?> Url = new("--url")
    {
        Description = $"the Rebalancer's address [{Connection.UrlVariable}, else {Connection.DefaultUrl}]",
        Recursive = true,
    };

    private static readonly Option<string?> TokenFile = new("--token-file")
    {
        Description = $"file holding the API token (the Rebalancer's webhook.tokenFile) [{Connection.TokenVariable} (the token itself), " +
            $"else {Connection.TokenFileVariable}, else {Connection.DefaultTokenFile}]",
        Recursive = true,
    };

    private static readonly Option<string> Output = new("--output", "-o")
    {
        Description = "text for people, json for scripts (the Rebalancer's answer as it came)",
        DefaultValueFactory = _ => "text",
        Recursive = true,
    };

    private static readonly Option<double> Timeout = new("--timeout")
    {
        Description = "seconds to wait for the Rebalancer's answer",
        DefaultValueFactory = _ => 10,
        Recursive = true,
    };

    private static readonly Option<string?> HostFilter = new("--host") { Description = "only this host (a decision about it, a move from or to it)" };
    private static readonly Option<string?> DomainFilter = new("--domain") { Description = "only this domain" };
    private static readonly Option<string?> KindFilter = new("--kind") { Description = "only this kind of decision: relief, memory_relief, drain, return_home, rule_repair" };
    private static readonly Option<string?> Since = new("--since") { Description = "from this time on: RFC 3339, or a duration back from now (90m, 2h, 1d)" };
    private static readonly Option<string?> Until = new("--until") { Description = "before this time: RFC 3339, or a duration back from now" };
    private static readonly Option<int> Limit = new("--limit") { Description = "at most this many decisions and migrations", DefaultValueFactory = _ => 20 };
    private static readonly Option<double> Interval = new("--interval") { Description = "seconds between two refreshes", DefaultValueFactory = _ => 1 };

    public static RootCommand Build()
    {
        Output.AcceptOnlyFromAmong("text", "json");
        KindFilter.AcceptOnlyFromAmong("relief", "memory_relief", "drain", "return_home", "rule_repair");
        var root = new RootCommand("loadshift: the Rebalancer from a terminal (README, \"The loadshift command\"). Exit codes: 0 done, 1 the Rebalancer " +
            "failed or refused the request, 2 bad command line, 3 no token or a wrong one, 4 Rebalancer unreachable, 5 unknown host, domain or " +
            "decision, 6 not possible now (conflict).")
        {
            Url, TokenFile, Output, Timeout,
        };

        root.Add(Verb("status", "hosts with CPU and memory against the watermarks, their domains, those away from home, alerts, migrations, moves waiting",
            [], async (c, p, ct) => Show(p, await c.GetAsync("api/v1/status", ct), json => StatusView.Render(Connection.Read<Status>(json), c.BaseUrl))));

        var plan = Verb("plan", "what the Rebalancer would decide now, with the moves weighed and the targets rejected (nothing is journaled or moved)",
            [HostFilter], async (c, p, ct) => Show(p,
                await c.PostAsync("api/v1/plan", ct, p.GetValue(HostFilter) is { } host ? new { host } : null),
                json => DecisionView.Plan(Connection.Read<Plan>(json))));
        HostFilter.CompletionSources.Add(ctx => HostNames(ctx.ParseResult));
        root.Add(plan);

        root.Add(Verb("history", "decisions and migrations from the journal, newest first", [DomainFilter, HostFilter, KindFilter, Since, Until, Limit],
            async (c, p, ct) => Show(p, await c.GetAsync(HistoryQuery(p), ct), json => DecisionView.History(Connection.Read<History>(json)))));

        var id = new Argument<long>("ID") { Description = "a decision's id (loadshift history, status, the alert's description)" };
        root.Add(Verb("explain", "one decision in full: why, the moves weighed with their predictions, the targets rejected and the rule of each",
            [id], async (c, p, ct) => Show(p, await c.GetAsync($"api/v1/decisions/{p.GetValue(id)}", ct),
                json => DecisionView.Explain(Connection.Read<Explanation>(json)))));

        var host = new Argument<string>("HOST") { Description = "a host of the inventory" };
        host.CompletionSources.Add(ctx => HostNames(ctx.ParseResult));
        root.Add(Verb("drain", "put HOST in maintenance: it receives nothing, its domains move off one at a time", [host],
            async (c, p, ct) => Show(p, await c.PostAsync($"api/v1/hosts/{Uri.EscapeDataString(p.GetValue(host)!)}/drain", ct),
                json => new Markup(Markup.Escape(Connection.Read<MaintenanceAnswer>(json).Detail)))));
        root.Add(Verb("undrain", "take HOST out of maintenance: it takes domains again, its own come home once it is calm", [host],
            async (c, p, ct) => Show(p, await c.PostAsync($"api/v1/hosts/{Uri.EscapeDataString(p.GetValue(host)!)}/undrain", ct),
                json => new Markup(Markup.Escape(Connection.Read<MaintenanceAnswer>(json).Detail)))));

        var pending = new Argument<long>("ID") { Description = "the decision id of a move waiting for approval (loadshift status lists them)" };
        pending.CompletionSources.Add(ctx => PendingIds(ctx.ParseResult));
        root.Add(Verb("approve", "make a move that waits for approval now (checked again first)", [pending],
            async (c, p, ct) => Show(p, await c.PostAsync($"api/v1/recommendations/{p.GetValue(pending)}/approve", ct), json =>
            {
                var answer = Connection.Read<RecommendationAnswer>(json);
                var r = answer.Recommendation;
                return new Markup(Markup.Escape($"approved decision {r.DecisionId}: {r.Domain} {r.Source} -> {r.Target}, migration {answer.MigrationId} started"));
            })));
        root.Add(Verb("reject", "drop a move that waits for approval (not recommended again within policy.recommendationExpiry)", [pending],
            async (c, p, ct) => Show(p, await c.PostAsync($"api/v1/recommendations/{p.GetValue(pending)}/reject", ct), json =>
            {
                var r = Connection.Read<RecommendationAnswer>(json).Recommendation;
                return new Markup(Markup.Escape($"rejected decision {r.DecisionId}: {r.Domain} stays on {r.Source}"));
            })));

        root.Add(Verb("watch", "a live view, redrawn every second: the hosts' bars, migrations in flight as progress bars, the latest decisions",
            [Interval], WatchAsync));

        var shell = new Argument<string>("SHELL") { Description = "bash, zsh or fish" };
        shell.AcceptOnlyFromAmong("bash", "zsh", "fish");
        var completion = new Command("completion", "print the shell completion script, e.g. loadshift completion bash > /etc/bash_completion.d/loadshift") { shell };
        completion.SetAction(p =>
        {
            Console.Out.Write(Completion.Script(p.GetValue(shell)!));
            return ExitCodes.Ok;
        });
        root.Add(completion);
        return root;
    }

    private delegate Task<int> Action(Connection connection, ParseResult parse, CancellationToken cancellationToken);

    private static Command Verb(string name, string description, IEnumerable<Symbol> symbols, Action action)
    {
        var command = new Command(name, description);
        foreach (var symbol in symbols)
        {
            switch (symbol)
            {
                case Argument argument:
                    command.Add(argument);
                    break;
                case Option option:
                    command.Add(option);
                    break;
            }
        }
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                using var connection = Connect(parse);
                return await action(connection, parse, cancellationToken).ConfigureAwait(false);
            }
            catch (CliException e)
            {
                Console.Error.WriteLine($"loadshift: {e.Message}");
                return e.ExitCode;
            }
        });
        return command;
    }

    private static Connection Connect(ParseResult parse) =>
        new(Connection.ResolveUrl(parse.GetValue(Url)), Connection.ResolveToken(parse.GetValue(TokenFile)), TimeSpan.FromSeconds(parse.GetValue(Timeout)));

    /// <summary>Prints the answer: as it came, indented, for --output json; else as the view renders it.</summary>
    private static int Show(ParseResult parse, string json, Func<string, IRenderable> view)
    {
        if (parse.GetValue(Output) == "json")
        {
            using var document = JsonDocument.Parse(json);
            Console.Out.WriteLine(JsonSerializer.Serialize(document.RootElement, Indented));
        }
        else
        {
            Terminal().Write(view(json));
            Console.Out.WriteLine();
        }
        return ExitCodes.Ok;
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>The console, 160 columns wide when the output goes to a file or a pipe (Spectre's default of 80 wraps the
    /// tables); colours only on a terminal.</summary>
    private static IAnsiConsole Terminal()
    {
        var console = AnsiConsole.Console;
        if (Console.IsOutputRedirected)
        {
            console.Profile.Width = 160;
        }
        return console;
    }

    private static string HistoryQuery(ParseResult parse)
    {
        var now = DateTimeOffset.UtcNow;
        var query = new List<string> { $"limit={parse.GetValue(Limit).ToString(CultureInfo.InvariantCulture)}" };
        void Add(string key, string? value)
        {
            if (value is not null)
            {
                query.Add($"{key}={Uri.EscapeDataString(value)}");
            }
        }
        Add("domain", parse.GetValue(DomainFilter));
        Add("host", parse.GetValue(HostFilter));
        Add("kind", parse.GetValue(KindFilter));
        Add("since", TimeArgument("--since", parse.GetValue(Since), now));
        Add("until", TimeArgument("--until", parse.GetValue(Until), now));
        return $"api/v1/history?{string.Join('&', query)}";
    }

    /// <summary>RFC 3339 as given, or a duration back from now (30s, 90m, 2h, 1d) as RFC 3339.</summary>
    internal static string? TimeArgument(string option, string? text, DateTimeOffset now)
    {
        if (text is null)
        {
            return null;
        }
        if (text.Length > 1 && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) && amount >= 0)
        {
            TimeSpan? back = text[^1] switch
            {
                's' => TimeSpan.FromSeconds(amount),
                'm' => TimeSpan.FromMinutes(amount),
                'h' => TimeSpan.FromHours(amount),
                'd' => TimeSpan.FromDays(amount),
                _ => null,
            };
            if (back is { } span)
            {
                return (now - span).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            }
        }
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)
            : throw new CliException(ExitCodes.Usage, $"{option} '{text}' is neither a time (2026-12-03T18:00:00Z) nor a duration back from now (90m, 2h, 1d)");
    }

    private static async Task<int> WatchAsync(Connection connection, ParseResult parse, CancellationToken cancellationToken)
    {
        var interval = TimeSpan.FromSeconds(Math.Max(0.2, parse.GetValue(Interval)));
        var console = Terminal();
        try
        {
            await console.Live(new Markup("connecting...")).AutoClear(false).Overflow(VerticalOverflow.Ellipsis).StartAsync(async live =>
            {
                using var timer = new PeriodicTimer(interval);
                do
                {
                    Status? status = null;
                    History? history = null;
                    string? error = null;
                    try
                    {
                        status = Connection.Read<Status>(await connection.GetAsync("api/v1/status", cancellationToken).ConfigureAwait(false));
                        history = Connection.Read<History>(await connection.GetAsync("api/v1/history?limit=5", cancellationToken).ConfigureAwait(false));
                    }
                    catch (CliException e) when (e.ExitCode is ExitCodes.Unreachable or ExitCodes.Failed)
                    {
                        // Shown in the view; the next refresh tries again (a Rebalancer restarting comes back).
                        error = e.Message;
                    }
                    live.UpdateTarget(WatchView.Render(status, history, error, connection.BaseUrl, DateTimeOffset.UtcNow));
                }
                while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
            }).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl-C: the way to leave.
        }
        return ExitCodes.Ok;
    }

    /// <summary>Host names for completion, from the Rebalancer if it answers within 2 s; none otherwise.</summary>
    private static IEnumerable<CompletionItem> HostNames(ParseResult parse) =>
        Quietly(parse, async c => Connection.Read<Status>(await c.GetAsync("api/v1/status", CancellationToken.None).ConfigureAwait(false))
            .Hosts.Select(h => h.Name));

    private static IEnumerable<CompletionItem> PendingIds(ParseResult parse) =>
        Quietly(parse, async c => Connection.Read<List<Recommendation>>(await c.GetAsync("api/v1/recommendations?status=pending", CancellationToken.None)
            .ConfigureAwait(false)).Select(r => r.DecisionId.ToString(CultureInfo.InvariantCulture)));

    private static IEnumerable<CompletionItem> Quietly(ParseResult parse, Func<Connection, Task<IEnumerable<string>>> names)
    {
        try
        {
            using var connection = new Connection(Connection.ResolveUrl(parse.GetValue(Url)), Connection.ResolveToken(parse.GetValue(TokenFile)),
                TimeSpan.FromSeconds(2));
            return [.. names(connection).GetAwaiter().GetResult().Select(n => new CompletionItem(n))];
        }
        catch (CliException)
        {
            return [];
        }
    }
}
