using Loadshift.Exporter.Procfs;
using Prometheus;

namespace Loadshift.Exporter.Collectors;

/// <summary>The load averages of &lt;procfs&gt;/loadavg.</summary>
internal sealed class LoadCollector(string procfs, IMetricFactory metrics) : ICollector
{
    private readonly string _loadavgPath = Path.Combine(procfs, "loadavg");
    private readonly Gauge _load1 = metrics.CreateGauge("hypervisor_load1", "1-minute load average of the host, from /proc/loadavg.");
    private readonly Gauge _load5 = metrics.CreateGauge("hypervisor_load5", "5-minute load average of the host, from /proc/loadavg.");
    private readonly Gauge _load15 = metrics.CreateGauge("hypervisor_load15", "15-minute load average of the host, from /proc/loadavg.");

    public string Name => "loadavg";

    public Task<bool> CollectAsync(ScrapeContext context, CancellationToken cancellationToken)
    {
        var load = LoadAverage.Parse(File.ReadAllText(_loadavgPath));
        _load1.Set(load.Load1);
        _load5.Set(load.Load5);
        _load15.Set(load.Load15);
        return Task.FromResult(true);
    }

    public void Withdraw()
    {
        _load1.Unpublish();
        _load5.Unpublish();
        _load15.Unpublish();
    }
}
