using Loadshift.Exporter.Libvirt;
using Loadshift.Exporter.Procfs;
using Loadshift.Exporter.Scraping;
using Prometheus;

namespace Loadshift.Exporter.Collectors;

internal static class CollectorRegistration
{
    /// <summary>The one list of collectors, shortened by --no-collector.NAME, with their families defined in
    /// <paramref name="metrics"/>, behind the scraper that runs them; <paramref name="libvirt"/> is the libvirt
    /// connection to close at the end, if the collector is on.</summary>
    public static Scraper CreateScraper(
        ExporterOptions options, IMetricFactory metrics, ILoggerFactory logs, TimeProvider time, out IDisposable? libvirt)
    {
        libvirt = null;
        var enabled = new List<ICollector>();
        bool On(string name) => !options.DisabledCollectors.Contains(name);
        if (On("cpu"))
        {
            enabled.Add(new CpuCollector(options.Procfs, ClockTicks.UserHz, metrics));
        }

        if (On("meminfo"))
        {
            enabled.Add(new MemoryCollector(options.Procfs, metrics));
        }

        if (On("loadavg"))
        {
            enabled.Add(new LoadCollector(options.Procfs, metrics));
        }

        if (On("libvirt"))
        {
            var libvirtSource = new LibvirtStatsSource(options.LibvirtUri);
            libvirt = libvirtSource;
            var interval = options.LibvirtSlowGroupsInterval;
            IDomainStatsSource source = interval > TimeSpan.Zero ? new SlowGroupsCache(libvirtSource, interval, time) : libvirtSource;
            enabled.Add(new LibvirtCollector(source, options.LibvirtUri, metrics, logs.CreateLogger<LibvirtCollector>(), interval));
        }

        return new Scraper(enabled, metrics, logs.CreateLogger<Scraper>(), time);
    }
}
