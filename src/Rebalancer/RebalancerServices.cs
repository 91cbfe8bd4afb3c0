using System.Globalization;
using System.Text.RegularExpressions;
using Loadshift.Rebalancer.Api;
using Loadshift.Rebalancer.Cluster;
using Loadshift.Rebalancer.Execution;
using Loadshift.Rebalancer.Inventory;
using Loadshift.Rebalancer.Journal;
using Loadshift.Rebalancer.Metrics;
using Loadshift.Rebalancer.Webhook;
using Loadshift.Rebalancer.Worker;
using Microsoft.Extensions.Options;

namespace Loadshift.Rebalancer;

/// <summary>The wiring Program.cs lists, one call per concern.</summary>
internal static partial class RebalancerServices
{
    public const string DefaultListen = "http://127.0.0.1:10180";

    /// <summary>The inventory YAML under the environment (<c>LOADSHIFT_</c>) and command line, which override it.</summary>
    public static WebApplicationBuilder AddInventoryFile(this WebApplicationBuilder builder, StartupArguments arguments)
    {
        string? inventoryDirectory = null;
        if (arguments.ConfigPath is { } path)
        {
            var fullPath = Path.GetFullPath(path);
            inventoryDirectory = Path.GetDirectoryName(fullPath);
            ((IConfigurationBuilder)builder.Configuration).Add(new YamlConfigurationSource(fullPath));
        }
        builder.Configuration.AddEnvironmentVariables("LOADSHIFT_");
        builder.Configuration.AddCommandLine(arguments.Rest);
        if (arguments.DryRun)
        {
            builder.Configuration[$"{PolicyOptions.Section}:dryRun"] = "true";
        }
        // listen: from the inventory unless --urls or ASPNETCORE_URLS says otherwise.
        if (string.IsNullOrEmpty(builder.Configuration["urls"]))
        {
            // A bad value is reported by ValidateConfiguration, with the other keys, before Kestrel would try it.
            builder.WebHost.UseUrls(ListenUrl(builder.Configuration["listen"], out _) ?? DefaultListen);
        }
        builder.AddInventory(inventoryDirectory);
        return builder;
    }

    /// <summary>The <c>listen</c> key as Kestrel's URL: <c>http(s)://HOST:PORT</c> as written, or <c>HOST:PORT</c>,
    /// <c>[IPv6]:PORT</c> and <c>:PORT</c> (every address) as the Exporter's <c>--web.listen-address</c> takes them.
    /// Null, with the reason, for anything else.</summary>
    internal static string? ListenUrl(string? listen, out string error)
    {
        error = "";
        if (string.IsNullOrWhiteSpace(listen))
        {
            return DefaultListen;
        }
        var url = listen.Contains("://", StringComparison.Ordinal) ? listen : "http://" + (listen.StartsWith(':') ? "*" : "") + listen;
        var match = ListenPattern().Match(url);
        if (match.Success && int.TryParse(match.Groups["port"].Value, CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535
            && (match.Groups["host"].Value is "*" or "+" || Uri.CheckHostName(match.Groups["host"].Value.Trim('[', ']')) != UriHostNameType.Unknown))
        {
            return url;
        }
        error = $"listen must be http://HOST:PORT, HOST:PORT or :PORT (got '{listen}')";
        return null;
    }

    [GeneratedRegex(@"^https?://(?<host>\[[0-9A-Fa-f:.]+\]|[^:/\[\]]+):(?<port>[0-9]{1,5})/?$")]
    private static partial Regex ListenPattern();

    /// <summary>The Rebalancer's own lines at Information; the framework's (HttpClient per request, routing) only
    /// from Warning, unless Logging:LogLevel in the configuration says otherwise.</summary>
    public static WebApplicationBuilder AddRebalancerLogging(this WebApplicationBuilder builder)
    {
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        builder.Logging.AddFilter("System.Net.Http", LogLevel.Warning);
        // A start stopped by bad configuration is reported once, by Program, without the host's stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            o.UseUtcTimestamp = true;
        });
        return builder;
    }

    public static IServiceCollection AddJournal(this IServiceCollection services) =>
        services.AddSingleton<SqliteJournal>().AddHostedService<JournalStartup>().AddExceptionHandler<JournalUnavailableHandler>();

    public static IServiceCollection AddLibvirt(this IServiceCollection services) =>
        services.AddSingleton<IHypervisor, VirshHypervisor>()
            .AddSingleton<MigrationTracker>()
            .AddSingleton<MigrationExecutor>();

    public static IServiceCollection AddPrometheusSource(this IServiceCollection services)
    {
        services.AddHttpClient<IMetricsSource, PrometheusMetricsSource>((provider, client) =>
            client.Timeout = provider.GetRequiredService<IOptions<PrometheusOptions>>().Value.Timeout + TimeSpan.FromSeconds(1));
        return services.AddSingleton<ClusterObserver>();
    }

    public static IServiceCollection AddRebalanceWorker(this IServiceCollection services) =>
        services.AddSingleton<WorkerSignal>()
            .AddSingleton<RebalanceWorker>()
            .AddHostedService(provider => provider.GetRequiredService<RebalanceWorker>());

    public static IServiceCollection AddWebhook(this IServiceCollection services) =>
        services.AddSingleton<BearerToken>();

    /// <summary>Enums in answers as the journal and the metrics write them: "relief", "return_home", "no_action".</summary>
    public static IServiceCollection AddJsonConventions(this IServiceCollection services) =>
        services.ConfigureHttpJsonOptions(o =>
            o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.SnakeCaseLower)));

    public const string ApiPrefix = "/api/v1";

    /// <summary>Counts the webhook's answers by status code; called before UseExceptionHandler, to count its answers too.</summary>
    public static WebApplication UseWebhookRequestCounting(this WebApplication app)
    {
        app.UseWebhookRequestCounting(ApiPrefix + WebhookEndpoints.Route);
        return app;
    }

    /// <summary>/api/v1: one group carrying the bearer token for every endpoint in it.</summary>
    public static WebApplication MapApiV1(this WebApplication app)
    {
        var api = app.MapGroup(ApiPrefix).AddEndpointFilter<BearerTokenFilter>();
        api.MapWebhook();
        api.MapRebalancerApi();
        return app;
    }

    /// <summary>Reads every options class once, so that all configuration errors stop the start here,
    /// reported together, before anything else runs.</summary>
    public static WebApplication ValidateConfiguration(this WebApplication app)
    {
        var failures = new List<string>();
        void Check<T>() where T : class
        {
            try
            {
                _ = app.Services.GetRequiredService<IOptions<T>>().Value;
            }
            catch (OptionsValidationException e)
            {
                failures.AddRange(e.Failures);
            }
        }
        Check<InventoryOptions>();
        Check<PolicyOptions>();
        Check<PrometheusOptions>();
        Check<WebhookOptions>();
        Check<JournalOptions>();
        Check<LibvirtOptions>();
        // Checked even when --urls overrides it: the inventory should not carry a key that would fail without it.
        if (ListenUrl(app.Configuration["listen"], out var listenError) is null)
        {
            failures.Add(listenError);
        }
        return failures.Count == 0 ? app : throw new OptionsValidationException("inventory", typeof(InventoryOptions), failures);
    }

    /// <summary>Under WebApplicationFactory the start's exception must reach the test, not the console.</summary>
    public static bool IsTestServer(this WebApplication? app) =>
        app?.Services.GetService<Microsoft.AspNetCore.Hosting.Server.IServer>()?.GetType().Name == "TestServer";

    public static WebApplication MapHealth(this WebApplication app)
    {
        app.MapGet("/healthz", () => TypedResults.Text("ok\n"));
        return app;
    }
}
