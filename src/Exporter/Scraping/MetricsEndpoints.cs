using System.Globalization;
using System.Text;
using Loadshift.Exporter.Collectors;
using Loadshift.Exporter.Exposition;
using Loadshift.Exporter.Http;

namespace Loadshift.Exporter.Scraping;

/// <summary>The exporter's three paths, for GET and HEAD: /metrics, /healthz and /.</summary>
internal sealed class MetricsEndpoints(Scraper scraper, ExporterOptions options)
{
    /// <summary>Margin kept below Prometheus' own scrape timeout, so the answer arrives before it gives up.</summary>
    private static readonly TimeSpan s_timeoutMargin = TimeSpan.FromMilliseconds(500);

    private static readonly HttpResponse s_health = HttpResponse.Text(200, "ok\n");
    private static readonly HttpResponse s_index = HttpResponse.Text(200, "loadshift-exporter: metrics at /metrics, health at /healthz\n");
    private static readonly HttpResponse s_notFound = HttpResponse.Text(404, "404 page not found\n");
    private static readonly HttpResponse s_methodNotAllowed =
        new(405, HttpResponse.PlainText, Encoding.UTF8.GetBytes("405 method not allowed: GET or HEAD\n")) { Allow = "GET, HEAD" };

    public async Task<HttpResponse> HandleAsync(HttpRequest request)
    {
        if (request.Path is not ("/metrics" or "/healthz" or "/"))
        {
            return s_notFound;
        }

        if (request.Method is not ("GET" or "HEAD"))
        {
            return s_methodNotAllowed;
        }

        return request.Path switch
        {
            "/metrics" => new HttpResponse(200, MetricWriter.ContentType,
                await scraper.ScrapeAsync(new ScrapeContext(Deadline(request.ScrapeTimeoutSeconds, options))).ConfigureAwait(false)),
            "/healthz" => s_health,
            _ => s_index,
        };
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
