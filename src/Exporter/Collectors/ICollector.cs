namespace Loadshift.Exporter.Collectors;

/// <summary>
/// One source of metrics, collected fresh at every scrape into the prometheus-net families it defined. A collector
/// that throws has its series withdrawn for that scrape and reports success 0; one that returns false keeps what it
/// set (e.g. libvirt_up 0) and reports 0.
/// </summary>
internal interface ICollector
{
    /// <summary>The name used in hypervisor_scrape_collector_* and in --no-collector.&lt;name&gt;.</summary>
    string Name { get; }

    Task<bool> CollectAsync(ScrapeContext context, CancellationToken cancellationToken);

    /// <summary>Takes the collector's series out of the exposition after a failed collection, so that a scrape
    /// never serves an earlier scrape's values as if they were fresh; the next successful collection puts them back.</summary>
    void Withdraw();
}

/// <summary>What one scrape tells its collectors: how long they have.</summary>
internal sealed record ScrapeContext(TimeSpan Deadline);
