using Loadshift.Exporter.Procfs;
using Prometheus;

namespace Loadshift.Exporter.Collectors;

/// <summary>free's view of host memory, from &lt;procfs&gt;/meminfo.</summary>
internal sealed class MemoryCollector(string procfs, IMetricFactory metrics) : ICollector
{
    private readonly string _meminfoPath = Path.Combine(procfs, "meminfo");
    private readonly Gauge _total = metrics.CreateGauge("hypervisor_memory_total_bytes", "Usable RAM of the host (MemTotal), as free's 'total'.");
    private readonly Gauge _free = metrics.CreateGauge("hypervisor_memory_free_bytes", "RAM not used at all (MemFree), as free's 'free'.");
    private readonly Gauge _available = metrics.CreateGauge("hypervisor_memory_available_bytes",
        "RAM available for new work without swapping (MemAvailable), as free's 'available'.");
    private readonly Gauge _used = metrics.CreateGauge("hypervisor_memory_used_bytes",
        "RAM in use: MemTotal - MemAvailable, as free's 'used' (procps-ng 4).");
    private readonly Gauge _buffCache = metrics.CreateGauge("hypervisor_memory_buff_cache_bytes",
        "Buffers + Cached + SReclaimable, as free's 'buff/cache'.");
    private readonly Gauge _swapTotal = metrics.CreateGauge("hypervisor_swap_total_bytes", "Swap space of the host (SwapTotal).");
    private readonly Gauge _swapFree = metrics.CreateGauge("hypervisor_swap_free_bytes", "Unused swap space (SwapFree).");

    public string Name => "meminfo";

    public Task<bool> CollectAsync(ScrapeContext context, CancellationToken cancellationToken)
    {
        var m = Meminfo.ToFigures(Meminfo.Parse(File.ReadAllText(_meminfoPath)));
        _total.Set(m.TotalBytes);
        _free.Set(m.FreeBytes);
        _available.Set(m.AvailableBytes);
        _used.Set(m.UsedBytes);
        _buffCache.Set(m.BuffCacheBytes);
        _swapTotal.Set(m.SwapTotalBytes);
        _swapFree.Set(m.SwapFreeBytes);
        return Task.FromResult(true);
    }

    public void Withdraw()
    {
        foreach (var gauge in (Gauge[])[_total, _free, _available, _used, _buffCache, _swapTotal, _swapFree])
        {
            gauge.Unpublish();
        }
    }
}
