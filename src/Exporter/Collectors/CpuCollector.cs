using System.Globalization;
using Loadshift.Exporter.Exposition;
using Loadshift.Exporter.Procfs;

namespace Loadshift.Exporter.Collectors;

/// <summary>mpstat's view: each CPU's time by mode, from &lt;procfs&gt;/stat.</summary>
internal sealed class CpuCollector(string procfs, long userHz) : ICollector
{
    private readonly string _statPath = Path.Combine(procfs, "stat");
    private readonly Lock _gate = new();

    // Highest value exposed so far per CPU and mode. The kernel's idle and iowait can step back by a tick or two
    // between reads (seen under lxcfs, and documented in proc(5) for iowait); a counter must not, so a value below
    // the last one is held at the last one, as mpstat clamps negative deltas to zero.
    private readonly Dictionary<int, ulong[]> _highest = [];

    public string Name => "cpu";

    public Task<bool> CollectAsync(MetricWriter writer, ScrapeContext context, CancellationToken cancellationToken)
    {
        var cpus = ProcStat.ParseCpus(File.ReadAllText(_statPath));
        var modeTicks = new ulong[cpus.Count][];
        lock (_gate)
        {
            for (var i = 0; i < cpus.Count; i++)
            {
                modeTicks[i] = Clamp(cpus[i]);
            }
        }

        writer.Family("hypervisor_cpus", MetricType.Gauge,
            "Online CPUs of the host: the cpuN lines of /proc/stat (under lxcfs, the host's CPU quota rounded up).");
        writer.Sample(cpus.Count);

        writer.Family("hypervisor_cpu_seconds_total", MetricType.Counter,
            "Seconds each CPU spent in each mode, from /proc/stat with mpstat's semantics: user excludes guest and " +
            "nice excludes guest_nice, so one CPU's modes add up to its total time.");
        for (var i = 0; i < cpus.Count; i++)
        {
            var cpu = cpus[i].Cpu.ToString(CultureInfo.InvariantCulture);
            for (var m = 0; m < CpuTicks.Modes.Length; m++)
            {
                writer.Sample("cpu", cpu, "mode", CpuTicks.Modes[m], (double)modeTicks[i][m] / userHz);
            }
        }

        return Task.FromResult(true);
    }

    private ulong[] Clamp(CpuTicks cpu)
    {
        var current = new ulong[CpuTicks.Modes.Length];
        cpu.ToModeTicks(current);
        if (!_highest.TryGetValue(cpu.Cpu, out var highest))
        {
            _highest[cpu.Cpu] = (ulong[])current.Clone();
            return current;
        }

        for (var m = 0; m < current.Length; m++)
        {
            highest[m] = Math.Max(highest[m], current[m]);
        }

        return (ulong[])highest.Clone();
    }
}
