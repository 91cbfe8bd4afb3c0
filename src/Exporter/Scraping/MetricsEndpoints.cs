using System.Globalization;
using Loadshift.Exporter.Collectors;
using Loadshift.Exporter.Exposition;

namespace Loadshift.Exporter.Scraping;

internal static class MetricsEndpoints
{
    /// <summary>Margin kept below Prometheus' own scrape timeout, so the answer arrives before it gives up.</summary>
    private static readonly TimeSpan s_timeoutMargin = TimeSpan.FromMilliseconds(500);

    public static void MapMetrics(this IEndpointRouteBuilder app, ExporterOptions options)
    {
        app.MapGet("/metrics", async (HttpRequest request, Scraper scraper, CancellationToken cancellationToken) =>
        {
            var body = await scraper.ScrapeAsync(new ScrapeContext(Deadline(request, options))).WaitAsync(cancellationToken);
            return Results.Bytes(body, MetricWriter.ContentType);
        });
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/", () => Results.Text(
            "loadshift-exporter: metrics at /metrics, health at /healthz\n", "text/plain; charset=utf-8"));
    }

    /// <summary>
    /// The libvirt deadline: --libvirt.timeout, shortened when Prometheus says (X-Prometheus-Scrape-Timeout-Seconds)
    /// that it will give up sooner.
    /// </summary>
    internal static TimeSpan Deadline(HttpRequest request, ExporterOptions options)
    {
        var deadline = options.LibvirtTimeout;
        if (double.TryParse(request.Headers["X-Prometheus-Scrape-Timeout-Seconds"], NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) &&
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
