using System.Diagnostics;
using System.Reflection;
using Loadshift.Exporter.Collectors;
using Loadshift.Exporter.Exposition;

namespace Loadshift.Exporter.Scraping;

/// <summary>
/// Runs every collector at each scrape, side by side, and renders one exposition. Scrapes that overlap share the
/// collection in flight rather than starting another. A collector that throws loses its samples for that scrape
/// and reports success 0; the others are served as usual.
/// </summary>
internal sealed class Scraper(IReadOnlyList<ICollector> collectors, ILogger<Scraper> logger, TimeProvider time)
{
    private static readonly string s_version =
        typeof(Scraper).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    private readonly Lock _gate = new();
    private Task<byte[]>? _inFlight;

    public static string Version => s_version;

    /// <summary>The exposition of one collection, shared with any scrape that arrives while it runs.</summary>
    public Task<byte[]> ScrapeAsync(ScrapeContext context)
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

    /// <summary>One collection, rendered; public for tests and benchmarks, which want it unshared.</summary>
    public async Task<byte[]> CollectAsync(ScrapeContext context)
    {
        var writers = new MetricWriter[collectors.Count];
        var durations = new double[collectors.Count];
        var successes = new bool[collectors.Count];
        await Task.WhenAll(collectors.Select((collector, i) => RunAsync(collector, i))).ConfigureAwait(false);

        using var output = new MetricWriter();
        foreach (var writer in writers)
        {
            output.Append(writer);
            writer.Dispose();
        }

        output.Family("hypervisor_scrape_collector_duration_seconds", MetricType.Gauge,
            "Seconds each collector took in this scrape.");
        for (var i = 0; i < collectors.Count; i++)
        {
            output.Sample("collector", collectors[i].Name, durations[i]);
        }

        output.Family("hypervisor_scrape_collector_success", MetricType.Gauge,
            "1 if the collector succeeded in this scrape, 0 if it failed (its samples may be missing).");
        for (var i = 0; i < collectors.Count; i++)
        {
            output.Sample("collector", collectors[i].Name, successes[i] ? 1 : 0);
        }

        output.Family("hypervisor_exporter_build_info", MetricType.Gauge,
            "Always 1; the exporter's version and the .NET runtime as labels.");
        output.Sample("version", s_version, "runtime", Environment.Version.ToString(), 1);
        return output.ToUtf8();

        async Task RunAsync(ICollector collector, int i)
        {
            var started = time.GetTimestamp();
            var writer = new MetricWriter();
            try
            {
                // Off the caller's thread: file reads and native calls must not hold up the other collectors.
                successes[i] = await Task.Run(() => collector.CollectAsync(writer, context, CancellationToken.None)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException or InvalidOperationException)
            {
                Log.CollectorFailed(logger, collector.Name, e.Message);
                writer.Dispose();
                writer = new MetricWriter();
                successes[i] = false;
            }

            writers[i] = writer;
            durations[i] = time.GetElapsedTime(started).TotalSeconds;
        }
    }
}
