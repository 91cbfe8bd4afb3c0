using System.Globalization;

namespace Loadshift.Exporter.Libvirt;

internal sealed record VcpuSample(int Index, double TimeNanoseconds);

internal sealed record InterfaceSample(
    string Name, double ReceiveBytes, double ReceivePackets, double ReceiveErrors, double ReceiveDrops,
    double TransmitBytes, double TransmitPackets, double TransmitErrors, double TransmitDrops);

internal sealed record BlockSample(string Name, double ReadRequests, double ReadBytes, double WriteRequests, double WriteBytes);

/// <summary>
/// One domain's stats in the exporter's terms. Absent values are NaN (libvirt leaves out what it cannot read,
/// e.g. balloon.rss of a domain that is not running, or anything behind a busy job under the NOWAIT flag).
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
    /// <summary>Maps libvirt's keys (documented under virConnectGetAllDomainStats) onto a sample.</summary>
    public static DomainSample From(DomainStatsRecord record)
    {
        double state = double.NaN, reason = double.NaN, cpuTime = double.NaN, cpuUser = double.NaN, cpuSystem = double.NaN;
        double vcpuCurrent = double.NaN, balloonMax = double.NaN, balloonCurrent = double.NaN, balloonRss = double.NaN;
        var vcpus = new SortedDictionary<int, double>();
        var nets = new SortedDictionary<int, Indexed>();
        var blocks = new SortedDictionary<int, Indexed>();

        foreach (var (key, value) in record.Stats)
        {
            switch (key)
            {
                case "state.state": state = value.Number; break;
                case "state.reason": reason = value.Number; break;
                case "cpu.time": cpuTime = value.Number; break;
                case "cpu.user": cpuUser = value.Number; break;
                case "cpu.system": cpuSystem = value.Number; break;
                case "vcpu.current": vcpuCurrent = value.Number; break;
                case "balloon.maximum": balloonMax = value.Number; break;
                case "balloon.current": balloonCurrent = value.Number; break;
                case "balloon.rss": balloonRss = value.Number; break;
                default:
                    if (TrySplitIndexed(key, "vcpu.", out var vcpu, out var vcpuField) && vcpuField == "time")
                    {
                        vcpus[vcpu] = value.Number;
                    }
                    else if (TrySplitIndexed(key, "net.", out var net, out var netField))
                    {
                        Add(nets, net, netField, value);
                    }
                    else if (TrySplitIndexed(key, "block.", out var block, out var blockField))
                    {
                        Add(blocks, block, blockField, value);
                    }

                    break;
            }
        }

        return new DomainSample(
            record.Name,
            record.Uuid,
            double.IsNaN(state) ? 0 : (int)state,
            double.IsNaN(reason) ? 0 : (int)reason,
            cpuTime, cpuUser, cpuSystem, vcpuCurrent,
            [.. vcpus.Select(v => new VcpuSample(v.Key, v.Value))],
            balloonMax, balloonCurrent, balloonRss,
            [.. nets.Values.Where(n => n.Name is not null).Select(n => new InterfaceSample(
                n.Name!, n.Get("rx.bytes"), n.Get("rx.pkts"), n.Get("rx.errs"), n.Get("rx.drop"),
                n.Get("tx.bytes"), n.Get("tx.pkts"), n.Get("tx.errs"), n.Get("tx.drop")))],
            [.. blocks.Values.Where(b => b.Name is not null).Select(b => new BlockSample(
                b.Name!, b.Get("rd.reqs"), b.Get("rd.bytes"), b.Get("wr.reqs"), b.Get("wr.bytes")))]);
    }

    private static void Add(SortedDictionary<int, Indexed> items, int index, string field, StatValue value)
    {
        if (!items.TryGetValue(index, out var item))
        {
            items[index] = item = new Indexed();
        }

        if (field == "name")
        {
            item.Name = value.Text;
        }
        else
        {
            item.Values[field] = value.Number;
        }
    }

    /// <summary>"net.0.rx.bytes" with prefix "net." gives index 0 and field "rx.bytes".</summary>
    private static bool TrySplitIndexed(string key, string prefix, out int index, out string field)
    {
        index = -1;
        field = "";
        if (!key.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = key.AsSpan(prefix.Length);
        var dot = rest.IndexOf('.');
        if (dot <= 0 || !int.TryParse(rest[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out index))
        {
            return false;
        }

        field = rest[(dot + 1)..].ToString();
        return true;
    }

    private sealed class Indexed
    {
        public string? Name { get; set; }

        public Dictionary<string, double> Values { get; } = new(StringComparer.Ordinal);

        public double Get(string field) => Values.TryGetValue(field, out var v) ? v : double.NaN;
    }
}
