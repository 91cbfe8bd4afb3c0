using System.Reflection;
using Loadshift.Exporter.Collectors;
using Prometheus;
using ICollector = Loadshift.Exporter.Collectors.ICollector;

namespace Loadshift.Exporter.Scraping;

/// <summary>
/// Runs every collector when the registry is scraped (its before-collect callback), side by side. Scrapes that
/// overlap share the collection in flight rather than starting another. A collector that throws has its series
/// withdrawn for that scrape and reports success 0; the others are served as usual.
/// </summary>
internal sealed class Scraper
{
    private static readonly string s_version =
        typeof(Scraper).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    private readonly IReadOnlyList<ICollector> _collectors;
    private readonly ILogger<Scraper> _logger;
    private readonly TimeProvider _time;
    private readonly Gauge.Child[] _durations;
    private readonly Gauge.Child[] _successes;
    private readonly Lock _gate = new();
    private Task? _inFlight;

    public Scraper(IReadOnlyList<ICollector> collectors, IMetricFactory metrics, ILogger<Scraper> logger, TimeProvider time)
    {
        _collectors = collectors;
        _logger = logger;
        _time = time;
        var durations = metrics.CreateGauge("hypervisor_scrape_collector_duration_seconds",
            "Seconds each collector took in this scrape.", ["collector"]);
        var successes = metrics.CreateGauge("hypervisor_scrape_collector_success",
            "1 if the collector succeeded in this scrape, 0 if it failed (its samples may be missing).", ["collector"]);
        _durations = [.. collectors.Select(c => durations.WithLabels(c.Name))];
        _successes = [.. collectors.Select(c => successes.WithLabels(c.Name))];
        metrics.CreateGauge("hypervisor_exporter_build_info",
                "Always 1; the exporter's version and the .NET runtime as labels.", ["version", "runtime"])
            .WithLabels(s_version, Environment.Version.ToString()).Set(1);
    }

    public static string Version => s_version;

    /// <summary>One collection, shared with any scrape that arrives while it runs.</summary>
    public Task ScrapeAsync(ScrapeContext context)
    {
        lock (_gate)
        {
            if (_inFlight is null || _inFlight.IsCompleted)
            {
                _inFlight = CollectAsync(context);
            }

            return _inFlight;
        }
    }

    /// <summary>One collection, unshared; for tests and benchmarks.</summary>
    public Task CollectAsync(ScrapeContext context) =>
        Task.WhenAll(_collectors.Select((collector, i) => RunAsync(collector, i, context)));

    private async Task RunAsync(ICollector collector, int i, ScrapeContext context)
    {
        var started = _time.GetTimestamp();
        bool success;
        try
        {
            // Off the caller's thread: file reads and native calls must not hold up the other collectors.
            success = await Task.Run(() => collector.CollectAsync(context, CancellationToken.None)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException or InvalidOperationException)
        {
            Log.CollectorFailed(_logger, collector.Name, e.Message);
            collector.Withdraw();
            success = false;
        }

        _durations[i].Set(_time.GetElapsedTime(started).TotalSeconds);
        _successes[i].Set(success ? 1 : 0);
    }
}
