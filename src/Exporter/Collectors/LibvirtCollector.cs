using Loadshift.Exporter.Exposition;
using Loadshift.Exporter.Libvirt;

namespace Loadshift.Exporter.Collectors;

/// <summary>virt-top's view and more: every domain's state, CPU, memory, block and interface counters from one
/// bulk stats call. When libvirt fails or is late, the scrape still carries libvirt_up 0 and the host metrics.</summary>
internal sealed class LibvirtCollector(IDomainStatsSource source, string uri, ILogger<LibvirtCollector> logger) : ICollector
{
    public string Name => "libvirt";

    public async Task<bool> CollectAsync(MetricWriter writer, ScrapeContext context, CancellationToken cancellationToken)
    {
        IReadOnlyList<DomainStatsRecord> records;
        try
        {
            records = await source.GetAllDomainStatsAsync(context.Deadline, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is LibvirtException or DllNotFoundException or EntryPointNotFoundException)
        {
            Log.LibvirtDown(logger, uri, e.Message);
            WriteUp(writer, 0);
            return false;
        }

        WriteUp(writer, 1);
        var samples = new DomainSample[records.Count];
        for (var i = 0; i < records.Count; i++)
        {
            samples[i] = DomainSample.From(records[i]);
        }

        DomainMetrics.Write(writer, samples);
        return true;
    }

    private static void WriteUp(MetricWriter writer, double up)
    {
        writer.Family("libvirt_up", MetricType.Gauge,
            "1 if the last bulk stats call to libvirt answered in time, 0 if it failed or ran past the deadline.");
        writer.Sample(up);
    }

}
