using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Loadshift.Exporter.Libvirt;

internal readonly record struct VcpuSample(int Index, double TimeNanoseconds);

internal readonly record struct InterfaceSample(
    string Name, double ReceiveBytes, double ReceivePackets, double ReceiveErrors, double ReceiveDrops,
    double TransmitBytes, double TransmitPackets, double TransmitErrors, double TransmitDrops);

internal readonly record struct BlockSample(string Name, double ReadRequests, double ReadBytes, double WriteRequests, double WriteBytes);

/// <summary>
/// One domain's stats in the exporter's terms. Absent values are NaN (libvirt leaves out what it cannot read,
/// e.g. balloon.rss of a domain that is not running, or anything behind a busy job under the NOWAIT flag).
/// vCPUs, interfaces and block devices come in the order of their index; an interface or device without a name
/// is left out.
/// </summary>
internal sealed record DomainSample(
    string Name,
    string Uuid,
    int State,
    int StateReason,
    double CpuTimeNanoseconds,
    double CpuUserNanoseconds,
    double CpuSystemNanoseconds,
    double VcpuCurrent,
    IReadOnlyList<VcpuSample> Vcpus,
    double BalloonMaximumKibibytes,
    double BalloonCurrentKibibytes,
    double BalloonRssKibibytes,
    IReadOnlyList<InterfaceSample> Interfaces,
    IReadOnlyList<BlockSample> Blocks)
{
    /// <summary>Scratch lists for the indexed groups, kept per thread so that mapping a domain allocates only its
    /// result.</summary>
    [ThreadStatic]
    private static Groups? t_groups;

    /// <summary>Maps libvirt's keys (documented under virConnectGetAllDomainStats) onto a sample. When a key comes
    /// twice, the last value counts.</summary>
    public static DomainSample From(DomainStatsRecord record)
    {
        double state = double.NaN, reason = double.NaN, cpuTime = double.NaN, cpuUser = double.NaN, cpuSystem = double.NaN;
        double vcpuCurrent = double.NaN, balloonMax = double.NaN, balloonCurrent = double.NaN, balloonRss = double.NaN;
        var groups = t_groups ??= new Groups();
        groups.Clear();

        var stats = record.Stats;
        for (var s = 0; s < stats.Count; s++)
        {
            var (key, value) = stats[s];
            var stat = StatKeys.Parse(key, out var index);
            switch (stat)
            {
                case StatKey.Other: break;
                case StatKey.StateState: state = value.Number; break;
                case StatKey.StateReason: reason = value.Number; break;
                case StatKey.CpuTime: cpuTime = value.Number; break;
                case StatKey.CpuUser: cpuUser = value.Number; break;
                case StatKey.CpuSystem: cpuSystem = value.Number; break;
                case StatKey.VcpuCurrent: vcpuCurrent = value.Number; break;
                case StatKey.BalloonMaximum: balloonMax = value.Number; break;
                case StatKey.BalloonCurrent: balloonCurrent = value.Number; break;
                case StatKey.BalloonRss: balloonRss = value.Number; break;
                case StatKey.VcpuTime: Find(groups.Vcpus, index).Counters[0] = value.Number; break;
                case StatKey.NetName: Find(groups.Nets, index).Name = value.Text; break;
                case StatKey.BlockName: Find(groups.Blocks, index).Name = value.Text; break;
                case >= StatKey.NetReceiveBytes and <= StatKey.NetTransmitDrops:
                    Find(groups.Nets, index).Counters[stat - StatKey.NetReceiveBytes] = value.Number;
                    break;
                case >= StatKey.BlockReadRequests and <= StatKey.BlockWriteBytes:
                    Find(groups.Blocks, index).Counters[stat - StatKey.BlockReadRequests] = value.Number;
                    break;
            }
        }

        var vcpus = Sorted(groups.Vcpus);
        var vcpuSamples = new VcpuSample[vcpus.Length];
        for (var i = 0; i < vcpus.Length; i++)
        {
            vcpuSamples[i] = new VcpuSample(vcpus[i].Index, vcpus[i].Counters[0]);
        }

        return new DomainSample(
            record.Name,
            record.Uuid,
            double.IsNaN(state) ? 0 : (int)state,
            double.IsNaN(reason) ? 0 : (int)reason,
            cpuTime, cpuUser, cpuSystem, vcpuCurrent,
            vcpuSamples,
            balloonMax, balloonCurrent, balloonRss,
            Named(groups.Nets, static (name, c) => new InterfaceSample(name, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7])),
            Named(groups.Blocks, static (name, c) => new BlockSample(name, c[0], c[1], c[2], c[3])));
    }

    /// <summary>The group with this index, added when it is new. libvirt lists a group's keys together and the
    /// groups in index order, so the last group is the one to try first.</summary>
    private static ref Group Find(List<Group> groups, int index)
    {
        var span = CollectionsMarshal.AsSpan(groups);
        for (var i = span.Length - 1; i >= 0; i--)
        {
            if (span[i].Index == index)
            {
                return ref span[i];
            }
        }

        groups.Add(new Group(index));
        return ref CollectionsMarshal.AsSpan(groups)[^1];
    }

    private static Span<Group> Sorted(List<Group> groups)
    {
        var span = CollectionsMarshal.AsSpan(groups);
        span.Sort(static (a, b) => a.Index.CompareTo(b.Index));
        return span;
    }

    private static T[] Named<T>(List<Group> groups, Func<string, ReadOnlySpan<double>, T> sample)
    {
        var sorted = Sorted(groups);
        var named = 0;
        foreach (ref readonly var g in sorted)
        {
            named += g.Name is null ? 0 : 1;
        }

        var result = new T[named];
        var r = 0;
        foreach (ref var g in sorted)
        {
            if (g.Name is not null)
            {
                result[r++] = sample(g.Name, g.Counters);
            }
        }

        return result;
    }

    private sealed class Groups
    {
        public List<Group> Vcpus { get; } = [];

        public List<Group> Nets { get; } = [];

        public List<Group> Blocks { get; } = [];

        public void Clear()
        {
            Vcpus.Clear();
            Nets.Clear();
            Blocks.Clear();
        }
    }

    /// <summary>What one vcpu.&lt;n&gt;, net.&lt;n&gt; or block.&lt;n&gt; group has gathered so far; counters
    /// not (yet) seen are NaN.</summary>
    private struct Group
    {
        public Group(int index)
        {
            Index = index;
            ((Span<double>)Counters).Fill(double.NaN);
        }

        public int Index { get; }

        public string? Name { get; set; }

        public CounterValues Counters;
    }

    /// <summary>Room for the most counters a group has: an interface's eight.</summary>
    [InlineArray(8)]
    private struct CounterValues
    {
        private double _first;
    }
}
