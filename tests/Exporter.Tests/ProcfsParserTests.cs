using Loadshift.Exporter.Procfs;

namespace Loadshift.Exporter.Tests;

public class ProcStatTests
{
    [Fact]
    public void Many_cpu_host_gives_every_cpu_line_and_skips_the_aggregate()
    {
        var cpus = ProcStat.ParseCpus(Fixtures.Read("procfs-32cpu-kvm", "stat"));

        Assert.Equal(32, cpus.Count);
        Assert.Equal(Enumerable.Range(0, 32), cpus.Select(c => c.Cpu));
    }

    [Fact]
    public void Modes_of_one_cpu_add_up_to_its_total_time_with_guest_taken_out_of_user()
    {
        var text = Fixtures.Read("procfs-32cpu-kvm", "stat");
        var line = text.Split('\n').Single(l => l.StartsWith("cpu7 ", StringComparison.Ordinal));
        var columns = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(ulong.Parse).ToArray();
        var cpu = ProcStat.ParseCpus(text).Single(c => c.Cpu == 7);

        Span<ulong> modes = stackalloc ulong[10];
        cpu.ToModeTicks(modes);

        // The kernel's total: the first eight columns (guest and guest_nice are already inside user and nice).
        var kernelTotal = columns.Take(8).Aggregate(0UL, (a, b) => a + b);
        var modeTotal = 0UL;
        foreach (var m in modes)
        {
            modeTotal += m;
        }

        Assert.Equal(kernelTotal, modeTotal);
        Assert.Equal(columns[0] - columns[8], modes[0]); // user without guest
        Assert.Equal(columns[1] - columns[9], modes[1]); // nice without guest_nice
        Assert.Equal(columns[8], modes[8]);
    }

    [Fact]
    public void Offline_cpu_in_the_middle_leaves_a_gap_not_a_shift()
    {
        var cpus = ProcStat.ParseCpus(Fixtures.Read("procfs-cpu2-offline", "stat"));

        Assert.Equal([0, 1, 3], cpus.Select(c => c.Cpu));
        Assert.Equal(265000UL, cpus[2].Idle);
    }

    [Fact]
    public void Old_kernel_without_steal_and_guest_columns_reads_them_as_zero()
    {
        var cpus = ProcStat.ParseCpus("cpu  1 2 3 4\ncpu0 1 2 3 4 5 6 7\n");

        var cpu = Assert.Single(cpus);
        Assert.Equal((1UL, 4UL, 7UL, 0UL, 0UL), (cpu.User, cpu.Idle, cpu.Softirq, cpu.Steal, cpu.Guest));
    }

    [Theory]
    [InlineData("cpu0 1 2 x 4 5 6 7 8 9 10\n", "column 3 of cpu0")]
    [InlineData("cpu0 1 2\n", "cpu0 has 2 columns")]
    public void Malformed_lines_are_refused_with_a_message_that_says_where(string text, string expected)
    {
        var e = Assert.Throws<FormatException>(() => ProcStat.ParseCpus(text));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }
}

public class MeminfoTests
{
    [Fact]
    public void Buff_cache_counts_sreclaimable_and_used_is_total_minus_available()
    {
        var values = Meminfo.Parse(Fixtures.Read("procfs-2cpu", "meminfo"));
        var m = Meminfo.ToFigures(values);

        Assert.Equal(values["Buffers"] + values["Cached"] + values["SReclaimable"], m.BuffCacheBytes);
        Assert.Equal(values["MemTotal"] - values["MemAvailable"], m.UsedBytes);
        Assert.True(values["SReclaimable"] > 0, "the captured fixture has a nonzero SReclaimable");
    }

    [Fact]
    public void Old_kernel_without_sreclaimable_or_memavailable_falls_back_like_free()
    {
        var m = Meminfo.ToFigures(Meminfo.Parse(Fixtures.Read("meminfo", "old-kernel")));

        Assert.Equal(8061220UL * 1024, m.TotalBytes);
        Assert.Equal((102400UL + 2048000UL) * 1024, m.BuffCacheBytes);
        Assert.Equal(512344UL * 1024, m.AvailableBytes);
        Assert.Equal((8061220UL - 512344UL) * 1024, m.UsedBytes);
        Assert.Equal(2097148UL * 1024, m.SwapTotalBytes);
    }

    [Fact]
    public void Lxcfs_view_gives_the_cgroup_limit_as_total()
    {
        var m = Meminfo.ToFigures(Meminfo.Parse(Fixtures.Read("meminfo", "lxcfs-2g")));

        Assert.Equal(2UL << 30, m.TotalBytes);
        Assert.Equal(88932UL * 1024, m.BuffCacheBytes);
    }

    [Fact]
    public void Unitless_hugepage_counts_stay_counts()
    {
        var values = Meminfo.Parse(Fixtures.Read("meminfo", "old-kernel"));

        Assert.Equal(0UL, values["HugePages_Total"]);
        Assert.Equal(2048UL * 1024, values["Hugepagesize"]);
    }

    [Theory]
    [InlineData("MemTotal: lots kB\n", "value of MemTotal")]
    [InlineData("garbage\n", "without 'key:'")]
    [InlineData("MemFree: 1 kB\n", "no MemTotal")]
    public void Odd_files_get_a_clear_error(string text, string expected)
    {
        var e = Assert.Throws<FormatException>(() => Meminfo.ToFigures(Meminfo.Parse(text)));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }
}

public class LoadAverageTests
{
    [Fact]
    public void Parses_the_three_averages()
    {
        Assert.Equal(new LoadAverage(12.5, 10.25, 8), LoadAverage.Parse(Fixtures.Read("procfs-32cpu-kvm", "loadavg")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0.1 0.2")]
    [InlineData("a b c 1/2 3")]
    public void Odd_files_get_a_clear_error(string text)
    {
        var e = Assert.Throws<FormatException>(() => LoadAverage.Parse(text));
        Assert.Contains("/proc/loadavg", e.Message, StringComparison.Ordinal);
    }
}
