using Loadshift.Exporter.Exposition;
using Loadshift.Exporter.Procfs;

namespace Loadshift.Exporter.Collectors;

/// <summary>free's view of host memory, from &lt;procfs&gt;/meminfo.</summary>
internal sealed class MemoryCollector(string procfs) : ICollector
{
    private readonly string _meminfoPath = Path.Combine(procfs, "meminfo");

    public string Name => "meminfo";

    public Task<bool> CollectAsync(MetricWriter writer, ScrapeContext context, CancellationToken cancellationToken)
    {
        var m = Meminfo.ToFigures(Meminfo.Parse(File.ReadAllText(_meminfoPath)));
        Gauge(writer, "hypervisor_memory_total_bytes", "Usable RAM of the host (MemTotal), as free's 'total'.", m.TotalBytes);
        Gauge(writer, "hypervisor_memory_free_bytes", "RAM not used at all (MemFree), as free's 'free'.", m.FreeBytes);
        Gauge(writer, "hypervisor_memory_available_bytes",
            "RAM available for new work without swapping (MemAvailable), as free's 'available'.", m.AvailableBytes);
        Gauge(writer, "hypervisor_memory_used_bytes",
            "RAM in use: MemTotal - MemAvailable, as free's 'used' (procps-ng 4).", m.UsedBytes);
        Gauge(writer, "hypervisor_memory_buff_cache_bytes",
            "Buffers + Cached + SReclaimable, as free's 'buff/cache'.", m.BuffCacheBytes);
        Gauge(writer, "hypervisor_swap_total_bytes", "Swap space of the host (SwapTotal).", m.SwapTotalBytes);
        Gauge(writer, "hypervisor_swap_free_bytes", "Unused swap space (SwapFree).", m.SwapFreeBytes);
        return Task.FromResult(true);
    }

    private static void Gauge(MetricWriter writer, string name, string help, ulong value)
    {
        writer.Family(name, MetricType.Gauge, help);
        writer.Sample(value);
    }
}
