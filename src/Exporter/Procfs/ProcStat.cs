using System.Globalization;

namespace Loadshift.Exporter.Procfs;

/// <summary>One <c>cpuN</c> line of /proc/stat, in ticks of USER_HZ, exactly as the kernel reports it.</summary>
/// <remarks>
/// The kernel counts guest time inside user and guest_nice inside nice (proc(5)); <see cref="ToModeTicks"/>
/// takes them out the way mpstat does, so the ten modes of one CPU add up to its total time.
/// </remarks>
internal readonly record struct CpuTicks(
    int Cpu, ulong User, ulong Nice, ulong System, ulong Idle, ulong Iowait,
    ulong Irq, ulong Softirq, ulong Steal, ulong Guest, ulong GuestNice)
{
    /// <summary>The modes in exposition order; <see cref="ToModeTicks"/> fills an array in this order.</summary>
    public static readonly string[] Modes =
        ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest", "guest_nice"];

    public void ToModeTicks(Span<ulong> ticks)
    {
        ticks[0] = User >= Guest ? User - Guest : 0;
        ticks[1] = Nice >= GuestNice ? Nice - GuestNice : 0;
        ticks[2] = System;
        ticks[3] = Idle;
        ticks[4] = Iowait;
        ticks[5] = Irq;
        ticks[6] = Softirq;
        ticks[7] = Steal;
        ticks[8] = Guest;
        ticks[9] = GuestNice;
    }
}

internal static class ProcStat
{
    /// <summary>
    /// Parses the per-CPU lines of /proc/stat. The aggregate <c>cpu</c> line is skipped (the sum is PromQL's job);
    /// offline CPUs have no line, so the numbering may have gaps. Missing trailing columns (older kernels have no
    /// steal, guest or guest_nice) read as zero.
    /// </summary>
    public static List<CpuTicks> ParseCpus(string text)
    {
        var cpus = new List<CpuTicks>();
        Span<ulong> f = stackalloc ulong[10];
        foreach (var rawLine in text.AsSpan().EnumerateLines())
        {
            var line = rawLine.Trim();
            if (!line.StartsWith("cpu", StringComparison.Ordinal) || line.Length < 4 || !char.IsAsciiDigit(line[3]))
            {
                continue;
            }

            f.Clear();
            int cpu = -1, field = 0;
            foreach (var range in line.Split(' '))
            {
                var word = line[range];
                if (word.IsEmpty)
                {
                    continue;
                }

                if (cpu < 0)
                {
                    cpu = int.Parse(word[3..], NumberStyles.None, CultureInfo.InvariantCulture);
                    continue;
                }

                if (field < f.Length)
                {
                    if (!ulong.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out f[field]))
                    {
                        throw new FormatException($"/proc/stat: column {field + 1} of cpu{cpu} is not a number: '{word}'");
                    }
                }

                field++;
            }

            if (field < 4)
            {
                throw new FormatException($"/proc/stat: cpu{cpu} has {field} columns, at least 4 expected");
            }

            cpus.Add(new CpuTicks(cpu, f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9]));
        }

        return cpus;
    }
}
