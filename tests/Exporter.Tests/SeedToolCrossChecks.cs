using System.Globalization;
using Loadshift.Exporter.Collectors;
using Loadshift.Exporter.Procfs;

namespace Loadshift.Exporter.Tests;

/// <summary>The exporter against the seed's own tools, mpstat and free, on this machine at the same moment.</summary>
public class SeedToolCrossChecks
{
    private static readonly ScrapeContext s_context = new(TimeSpan.FromSeconds(1));

    private static async Task<Dictionary<string, double>> CpuSecondsByModeAsync(CpuCollector collector, TestRegistry registry)
    {
        await collector.CollectAsync(s_context, CancellationToken.None);
        var byMode = new Dictionary<string, double>();
        foreach (var line in (await registry.ExposeAsync()).Split('\n').Where(l => l.StartsWith("hypervisor_cpu_seconds_total{", StringComparison.Ordinal)))
        {
            var mode = line[(line.IndexOf("mode=\"", StringComparison.Ordinal) + 6)..line.IndexOf("\"}", StringComparison.Ordinal)];
            byMode[mode] = byMode.GetValueOrDefault(mode) + double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
        }

        return byMode;
    }

    [Fact]
    public async Task Cpu_shares_from_two_scrapes_agree_with_mpstat_over_the_same_interval()
    {
        var registry = new TestRegistry();
        var collector = new CpuCollector("/proc", ClockTicks.UserHz, registry.Metrics);
        using var burn = new CancellationTokenSource();
        // Some load, so that busy is not trivially ~0: one thread spinning about half of the time.
        var burner = Task.Run(() =>
        {
            while (!burn.IsCancellationRequested)
            {
                var until = DateTime.UtcNow.AddMilliseconds(10);
                while (DateTime.UtcNow < until)
                {
                }

                Thread.Sleep(10);
            }
        });

        var before = await CpuSecondsByModeAsync(collector, registry);
        var mpstat = await Tool.RunAsync("mpstat", ["3", "1"], timeout: TimeSpan.FromSeconds(30));
        var after = await CpuSecondsByModeAsync(collector, registry);
        await burn.CancelAsync();
        await burner;

        Assert.Equal(0, mpstat.ExitCode);
        // "Average:  all  %usr %nice %sys %iowait %irq %soft %steal %guest %gnice %idle"
        var average = mpstat.Stdout.Split('\n').Single(l => l.StartsWith("Average:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var mpstatIdle = double.Parse(average[^1], CultureInfo.InvariantCulture) / 100;
        var mpstatUser = double.Parse(average[2], CultureInfo.InvariantCulture) / 100;

        var delta = after.ToDictionary(kv => kv.Key, kv => kv.Value - before[kv.Key]);
        var total = delta.Values.Sum();
        var idle = delta["idle"] / total;
        var user = delta["user"] / total;

        // The exporter's interval brackets mpstat's (process start-up on both ends), so allow a few points.
        Assert.InRange(idle, mpstatIdle - 0.06, mpstatIdle + 0.06);
        Assert.InRange(user, mpstatUser - 0.06, mpstatUser + 0.06);
        Assert.True(1 - idle > 0.1, $"the spinning thread should make the host at least 10% busy, saw {1 - idle:P1}");
    }

    [Fact]
    public async Task Memory_agrees_with_free_in_bytes()
    {
        var free = await Tool.RunAsync("free", ["-b"]);
        var figures = Meminfo.ToFigures(Meminfo.Parse(await File.ReadAllTextAsync("/proc/meminfo")));

        //               total        used        free      shared  buff/cache   available
        // Mem:    25276502016   459272192 24532897792     9105408   569298944 24817229824
        var mem = free.Stdout.Split('\n').Single(l => l.StartsWith("Mem:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(ulong.Parse).ToArray();
        var swap = free.Stdout.Split('\n').Single(l => l.StartsWith("Swap:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(ulong.Parse).ToArray();

        Assert.Equal(mem[0], figures.TotalBytes);
        Assert.Equal(swap[0], figures.SwapTotalBytes);
        // Read a moment apart: the moving figures agree within 64 MiB.
        const double slack = 64 << 20;
        Assert.InRange((double)figures.UsedBytes, mem[1] - slack, mem[1] + slack);
        Assert.InRange((double)figures.FreeBytes, mem[2] - slack, mem[2] + slack);
        Assert.InRange((double)figures.BuffCacheBytes, mem[4] - slack, mem[4] + slack);
        Assert.InRange((double)figures.AvailableBytes, mem[5] - slack, mem[5] + slack);
    }
}
