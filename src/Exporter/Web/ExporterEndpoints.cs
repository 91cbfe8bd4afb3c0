using System.Globalization;
using Loadshift.Exporter.Collectors;
using Loadshift.Exporter.Scraping;
using Microsoft.AspNetCore.Routing;
using Prometheus;

namespace Loadshift.Exporter.Web;

/// <summary>The exporter's three paths, for GET and HEAD (other methods get routing's 405, other paths 404):
/// /metrics through prometheus-net, /healthz and /.</summary>
internal static class ExporterEndpoints
{
    public const string PlainText = "text/plain; charset=utf-8";

    /// <summary>Margin kept below Prometheus' own scrape timeout, so the answer arrives before it gives up.</summary>
    private static readonly TimeSpan s_timeoutMargin = TimeSpan.FromMilliseconds(500);

    /// <summary>The scrape's X-Prometheus-Scrape-Timeout-Seconds, from the request to the registry's before-collect
    /// callback, which prometheus-net runs in the request's own flow.</summary>
    private static readonly AsyncLocal<string?> s_scrapeTimeout = new();

    private static readonly string[] s_getAndHead = ["GET", "HEAD"];

    private const string IndexPage = """
        <!DOCTYPE html>
        <html>
        <head><title>loadshift-exporter</title></head>
        <body>
        <h1>loadshift-exporter</h1>
        <p><a href="/metrics">Metrics</a> · <a href="/healthz">Health</a></p>
        </body>
        </html>

        """;

    public static void MapExporterEndpoints(this WebApplication app, CollectorRegistry registry, Scraper scraper, ExporterOptions options)
    {
        registry.AddBeforeCollectCallback(_ => scraper.ScrapeAsync(new ScrapeContext(Deadline(s_scrapeTimeout.Value, options))));
        app.Use(async (context, next) =>
        {
            s_scrapeTimeout.Value = context.Request.Headers["X-Prometheus-Scrape-Timeout-Seconds"];
            await next(context).ConfigureAwait(false);
        });

        app.MapMetrics(settings => settings.Registry = registry, "/metrics")
            .WithMetadata(new HttpMethodMetadata(s_getAndHead));
        app.MapMethods("/healthz", s_getAndHead, () => Results.Text("ok\n", PlainText));
        app.MapMethods("/", s_getAndHead, () => Results.Text(IndexPage, "text/html; charset=utf-8"));
    }

    /// <summary>
    /// The libvirt deadline: --libvirt.timeout, shortened when Prometheus says (X-Prometheus-Scrape-Timeout-Seconds)
    /// that it will give up sooner.
    /// </summary>
    internal static TimeSpan Deadline(string? scrapeTimeoutSeconds, ExporterOptions options)
    {
        var deadline = options.LibvirtTimeout;
        if (double.TryParse(scrapeTimeoutSeconds, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) &&
            seconds > 0)
        {
            var scrapeTimeout = TimeSpan.FromSeconds(seconds) - s_timeoutMargin;
            if (scrapeTimeout > TimeSpan.Zero && scrapeTimeout < deadline)
            {
                deadline = scrapeTimeout;
            }
        }

        return deadline;
    }
}
