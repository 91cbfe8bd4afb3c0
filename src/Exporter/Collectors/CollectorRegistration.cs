using Loadshift.Exporter.Libvirt;
using Loadshift.Exporter.Procfs;
using Loadshift.Exporter.Scraping;

namespace Loadshift.Exporter.Collectors;

internal static class CollectorRegistration
{
    /// <summary>The one list of collectors, shortened by --no-collector.NAME, behind the scraper that runs them;
    /// <paramref name="libvirt"/> is the libvirt connection to close at the end, if the collector is on.</summary>
    public static Scraper CreateScraper(ExporterOptions options, ILoggerFactory logs, TimeProvider time, out IDisposable? libvirt)
    {
        libvirt = null;
        var all = new List<ICollector>
        {
            new CpuCollector(options.Procfs, ClockTicks.UserHz),
            new MemoryCollector(options.Procfs),
            new LoadCollector(options.Procfs),
        };
        if (!options.DisabledCollectors.Contains("libvirt"))
        {
            var source = new LibvirtStatsSource(options.LibvirtUri);
            libvirt = source;
            all.Add(new LibvirtCollector(source, options.LibvirtUri, new Logger<LibvirtCollector>(logs)));
        }

        IReadOnlyList<ICollector> enabled = [.. all.Where(c => !options.DisabledCollectors.Contains(c.Name))];
        return new Scraper(enabled, new Logger<Scraper>(logs), time);
    }
}
