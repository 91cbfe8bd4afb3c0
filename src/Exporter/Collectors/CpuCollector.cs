using System.Globalization;
using Loadshift.Exporter.Procfs;
using Prometheus;

namespace Loadshift.Exporter.Collectors;

/// <summary>mpstat's view: each CPU's time by mode, from &lt;procfs&gt;/stat.</summary>
internal sealed class CpuCollector(string procfs, long userHz, IMetricFactory metrics) : ICollector
{
    private readonly string _statPath = Path.Combine(procfs, "stat");
    private readonly Lock _gate = new();

    private readonly Gauge _cpus = metrics.CreateGauge("hypervisor_cpus",
        "Online CPUs of the host: the cpuN lines of /proc/stat (under lxcfs, the host's CPU quota rounded up).");

    private readonly Counter _seconds = metrics.CreateCounter("hypervisor_cpu_seconds_total",
        "Seconds each CPU spent in each mode, from /proc/stat with mpstat's semantics: user excludes guest and " +
        "nice excludes guest_nice, so one CPU's modes add up to its total time.", ["cpu", "mode"]);

    /// <summary>Per CPU and mode; a CPU that goes offline loses its series.</summary>
    private readonly SeriesTable<(int Cpu, int Mode), Series> _series = new();

    // Highest value exposed so far per CPU and mode. The kernel's idle and iowait can step back by a tick or two
    // between reads (seen under lxcfs, and documented in proc(5) for iowait); a counter must not, so a value below
    // the last one is held at the last one, as mpstat clamps negative deltas to zero.
    private readonly Dictionary<int, ulong[]> _highest = [];

    public string Name => "cpu";

    public Task<bool> CollectAsync(ScrapeContext context, CancellationToken cancellationToken)
    {
        var cpus = ProcStat.ParseCpus(File.ReadAllText(_statPath));
        lock (_gate)
        {
            _cpus.Set(cpus.Count);
            _series.Begin();
            foreach (var cpu in cpus)
            {
                var ticks = Clamp(cpu);
                for (var m = 0; m < CpuTicks.Modes.Length; m++)
                {
                    _series.Get((cpu.Cpu, m), 0, static (key, _) =>
                            new Series([key.Cpu.ToString(CultureInfo.InvariantCulture), CpuTicks.Modes[key.Mode]], 1))
                        .Counter(0, _seconds, (double)ticks[m] / userHz);
                }
            }

            _series.RemoveUnseen();
        }

        return Task.FromResult(true);
    }

    public void Withdraw()
    {
        lock (_gate)
        {
            _cpus.Unpublish();
            _series.Clear();
        }
    }

    private ulong[] Clamp(CpuTicks cpu)
    {
        var current = new ulong[CpuTicks.Modes.Length];
        cpu.ToModeTicks(current);
        if (!_highest.TryGetValue(cpu.Cpu, out var highest))
        {
            _highest[cpu.Cpu] = current;
            return current;
        }

        for (var m = 0; m < current.Length; m++)
        {
            highest[m] = Math.Max(highest[m], current[m]);
        }

        return highest;
    }
}
