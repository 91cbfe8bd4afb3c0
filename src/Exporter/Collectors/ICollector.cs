using Loadshift.Exporter.Exposition;

namespace Loadshift.Exporter.Collectors;

/// <summary>
/// One source of metrics, collected fresh at every scrape. A collector that throws loses its samples for that
/// scrape and reports success 0; one that returns false keeps what it wrote (e.g. libvirt_up 0) and reports 0.
/// </summary>
internal interface ICollector
{
    /// <summary>The name used in hypervisor_scrape_collector_* and in --no-collector.&lt;name&gt;.</summary>
    string Name { get; }

    Task<bool> CollectAsync(MetricWriter writer, ScrapeContext context, CancellationToken cancellationToken);
}

/// <summary>What one scrape tells its collectors: how long they have.</summary>
internal sealed record ScrapeContext(TimeSpan Deadline);
