using Loadshift.Exporter.Libvirt;
using Loadshift.Exporter.Procfs;
using Loadshift.Exporter.Scraping;

namespace Loadshift.Exporter.Collectors;

internal static class CollectorRegistration
{
    /// <summary>The one list of collectors, shortened by --no-collector.NAME.</summary>
    public static IServiceCollection AddCollectors(this IServiceCollection services, ExporterOptions options)
    {
        services.AddSingleton<IDomainStatsSource>(_ => new LibvirtStatsSource(options.LibvirtUri));
        services.AddSingleton(provider =>
        {
            var all = new List<ICollector>
            {
                new CpuCollector(options.Procfs, ClockTicks.UserHz),
                new MemoryCollector(options.Procfs),
                new LoadCollector(options.Procfs),
            };
            if (!options.DisabledCollectors.Contains("libvirt"))
            {
                all.Add(new LibvirtCollector(
                    provider.GetRequiredService<IDomainStatsSource>(), options.LibvirtUri,
                    provider.GetRequiredService<ILogger<LibvirtCollector>>()));
            }

            IReadOnlyList<ICollector> enabled = [.. all.Where(c => !options.DisabledCollectors.Contains(c.Name))];
            return new Scraper(enabled, provider.GetRequiredService<ILogger<Scraper>>(), provider.GetRequiredService<TimeProvider>());
        });
        return services;
    }
}
