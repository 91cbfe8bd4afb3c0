using Loadshift.Exporter.Exposition;
using Loadshift.Exporter.Procfs;

namespace Loadshift.Exporter.Collectors;

/// <summary>The load averages of &lt;procfs&gt;/loadavg.</summary>
internal sealed class LoadCollector(string procfs) : ICollector
{
    private readonly string _loadavgPath = Path.Combine(procfs, "loadavg");

    public string Name => "loadavg";

    public Task<bool> CollectAsync(MetricWriter writer, ScrapeContext context, CancellationToken cancellationToken)
    {
        var load = LoadAverage.Parse(File.ReadAllText(_loadavgPath));
        writer.Family("hypervisor_load1", MetricType.Gauge, "1-minute load average of the host, from /proc/loadavg.");
        writer.Sample(load.Load1);
        writer.Family("hypervisor_load5", MetricType.Gauge, "5-minute load average of the host, from /proc/loadavg.");
        writer.Sample(load.Load5);
        writer.Family("hypervisor_load15", MetricType.Gauge, "15-minute load average of the host, from /proc/loadavg.");
        writer.Sample(load.Load15);
        return Task.FromResult(true);
    }
}
