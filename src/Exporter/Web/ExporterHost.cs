using System.Net;
using System.Net.Sockets;
using Loadshift.Exporter.Scraping;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging.Console;
using Prometheus;

namespace Loadshift.Exporter.Web;

/// <summary>The address could not be listened on; the message says why, for the operator.</summary>
internal sealed class ListenException(string message, Exception inner) : Exception(message, inner);

/// <summary>The exporter as an ASP.NET Core app on Kestrel: the slim builder, the limits, gzip, one-line logs.</summary>
internal static class ExporterHost
{
    /// <param name="createScraper">The collectors behind /metrics, defined in the app's registry.</param>
    /// <param name="limits">Kestrel's limits; tests shorten the timeouts.</param>
    /// <param name="endpoint">Where to listen instead of --web.listen-address; tests take port 0.</param>
    public static WebApplication Build(
        ExporterOptions options, Func<IMetricFactory, ILoggerFactory, Scraper> createScraper, ServerLimits? limits = null,
        IPEndPoint? endpoint = null)
    {
        limits ??= new ServerLimits();
        endpoint ??= ExporterOptions.ParseListenAddress(options.ListenAddress);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestLineSize = limits.MaxRequestLineBytes;
            kestrel.Limits.MaxRequestHeadersTotalSize = limits.MaxHeaderBytes;
            kestrel.Limits.RequestHeadersTimeout = limits.HeaderTimeout;
            kestrel.Limits.KeepAliveTimeout = limits.KeepAliveTimeout;
            kestrel.Limits.MaxConcurrentConnections = limits.MaxConnections;

            // Plain HTTP/1.1 as node_exporter serves it: Prometheus scrapes over it.
            if (endpoint.Address.Equals(IPAddress.IPv6Any))
            {
                kestrel.ListenAnyIP(endpoint.Port, l => l.Protocols = HttpProtocols.Http1);
            }
            else
            {
                kestrel.Listen(endpoint, l => l.Protocols = HttpProtocols.Http1);
            }
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = limits.StopTimeout);
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        builder.Services.AddResponseCompression(o =>
        {
            o.Providers.Add<GzipCompressionProvider>();
            o.MimeTypes = ["text/plain", "application/openmetrics-text"];
        });

        // One line per event on standard output ("info: Category[EventId] message"), which journald keeps as it is;
        // ASP.NET Core's own lines only when something is wrong.
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.ColorBehavior = LoggerColorBehavior.Disabled;
        });
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);

        var app = builder.Build();
        var registry = Metrics.NewCustomRegistry();
        var scraper = createScraper(Metrics.WithCustomRegistry(registry), app.Services.GetRequiredService<ILoggerFactory>());
        app.UseResponseCompression();
        app.MapExporterEndpoints(registry, scraper, options);
        return app;
    }

    /// <summary>Starts listening; an address that cannot be listened on throws <see cref="ListenException"/>.</summary>
    public static async Task StartAsync(WebApplication app, IPEndPoint endpoint)
    {
        try
        {
            await app.StartAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException || e.InnerException is SocketException || e.InnerException?.InnerException is SocketException)
        {
            // Kestrel throws the socket's error as it is (an address of no interface), or wrapped once (IOException)
            // or twice (IOException around AddressInUseException) for a port in use.
            var socket = e as SocketException ?? e.InnerException as SocketException ?? (SocketException)e.InnerException!.InnerException!;
            throw new ListenException(
                $"cannot listen on {endpoint}: " + socket.SocketErrorCode switch
                {
                    SocketError.AddressAlreadyInUse => "the port is in use (another exporter, or another program, listens on it)",
                    SocketError.AccessDenied => "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)",
                    SocketError.AddressNotAvailable => "no interface of this host has that address",
                    _ => socket.Message,
                },
                e);
        }
    }

    /// <summary>The port listened on; with port 0, the one the system chose.</summary>
    public static int Port(WebApplication app) =>
        new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
}
