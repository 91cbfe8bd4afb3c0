using Loadshift.Exporter.Libvirt;
using Prometheus;

namespace Loadshift.Exporter.Collectors;

/// <summary>virt-top's view and more: every domain's state, CPU, memory, block and interface counters from one
/// bulk stats call. When libvirt fails or is late, the scrape still carries libvirt_up 0 and the host metrics.</summary>
/// <param name="slowGroupsInterval">How old the vCPU and block series may be (<see cref="SlowGroupsCache"/>), for
/// their HELP; zero when they are read at every scrape.</param>
internal sealed class LibvirtCollector(
    IDomainStatsSource source, string uri, IMetricFactory metrics, ILogger<LibvirtCollector> logger, TimeSpan slowGroupsInterval = default)
    : ICollector
{
    private readonly Gauge _up = metrics.CreateGauge("libvirt_up",
        "1 if the last bulk stats call to libvirt answered in time, 0 if it failed or ran past the deadline.");

    private readonly DomainMetrics _domains = new(metrics, slowGroupsInterval);

    public string Name => "libvirt";

    public async Task<bool> CollectAsync(ScrapeContext context, CancellationToken cancellationToken)
    {
        IReadOnlyList<DomainStatsRecord> records;
        try
        {
            records = await source.GetAllDomainStatsAsync(StatsGroups.All, context.Deadline, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is LibvirtException or DllNotFoundException or EntryPointNotFoundException)
        {
            Log.LibvirtDown(logger, uri, e.Message);
            _up.Set(0);
            _domains.Clear();
            return false;
        }

        var samples = new DomainSample[records.Count];
        for (var i = 0; i < records.Count; i++)
        {
            samples[i] = DomainSample.From(records[i]);
        }

        _up.Set(1);
        _domains.Update(samples);
        return true;
    }

    public void Withdraw()
    {
        _up.Unpublish();
        _domains.Clear();
    }
}
