using System.Globalization;

namespace Loadshift.Exporter.Libvirt;

/// <summary>The bulk stats keys the exporter reads; every other key is <see cref="Other"/>.</summary>
internal enum StatKey
{
    Other,
    StateState,
    StateReason,
    CpuTime,
    CpuUser,
    CpuSystem,
    VcpuCurrent,
    BalloonMaximum,
    BalloonCurrent,
    BalloonRss,

    /// <summary>vcpu.&lt;n&gt;.time.</summary>
    VcpuTime,

    // net.<n>.*: the name, then the counters in InterfaceSample's order (NetReceiveBytes + i is counter i).
    NetName,
    NetReceiveBytes,
    NetReceivePackets,
    NetReceiveErrors,
    NetReceiveDrops,
    NetTransmitBytes,
    NetTransmitPackets,
    NetTransmitErrors,
    NetTransmitDrops,

    // block.<n>.*: the name, then the counters in BlockSample's order (BlockReadRequests + i is counter i).
    BlockName,
    BlockReadRequests,
    BlockReadBytes,
    BlockWriteRequests,
    BlockWriteBytes,
}

/// <summary>
/// Reads libvirt's bulk stats keys (listed under virConnectGetAllDomainStats, the same keys `virsh domstats --raw`
/// prints) without cutting them into strings: "net.0.rx.bytes" is <see cref="StatKey.NetReceiveBytes"/> of
/// interface 0.
/// </summary>
internal static class StatKeys
{
    /// <summary>What a key names and, for the indexed groups (vcpu.&lt;n&gt;., net.&lt;n&gt;., block.&lt;n&gt;.), its
    /// index, else -1. The index is decimal digits only, as libvirt writes it; anything else there makes the key
    /// <see cref="StatKey.Other"/>.</summary>
    public static StatKey Parse(ReadOnlySpan<char> key, out int index)
    {
        var stat = ParseKey(key, out index);
        if (stat == StatKey.Other)
        {
            index = -1;
        }

        return stat;
    }

    private static StatKey ParseKey(ReadOnlySpan<char> key, out int index)
    {
        index = -1;
        switch (key)
        {
            case "state.state": return StatKey.StateState;
            case "state.reason": return StatKey.StateReason;
            case "cpu.time": return StatKey.CpuTime;
            case "cpu.user": return StatKey.CpuUser;
            case "cpu.system": return StatKey.CpuSystem;
            case "vcpu.current": return StatKey.VcpuCurrent;
            case "balloon.maximum": return StatKey.BalloonMaximum;
            case "balloon.current": return StatKey.BalloonCurrent;
            case "balloon.rss": return StatKey.BalloonRss;
        }

        if (TrySplitIndexed(key, "vcpu.", out index, out var field))
        {
            return field is "time" ? StatKey.VcpuTime : StatKey.Other;
        }

        if (TrySplitIndexed(key, "net.", out index, out field))
        {
            return field switch
            {
                "name" => StatKey.NetName,
                "rx.bytes" => StatKey.NetReceiveBytes,
                "rx.pkts" => StatKey.NetReceivePackets,
                "rx.errs" => StatKey.NetReceiveErrors,
                "rx.drop" => StatKey.NetReceiveDrops,
                "tx.bytes" => StatKey.NetTransmitBytes,
                "tx.pkts" => StatKey.NetTransmitPackets,
                "tx.errs" => StatKey.NetTransmitErrors,
                "tx.drop" => StatKey.NetTransmitDrops,
                _ => StatKey.Other,
            };
        }

        if (TrySplitIndexed(key, "block.", out index, out field))
        {
            return field switch
            {
                "name" => StatKey.BlockName,
                "rd.reqs" => StatKey.BlockReadRequests,
                "rd.bytes" => StatKey.BlockReadBytes,
                "wr.reqs" => StatKey.BlockWriteRequests,
                "wr.bytes" => StatKey.BlockWriteBytes,
                _ => StatKey.Other,
            };
        }

        return StatKey.Other;
    }

    /// <summary>"net.0.rx.bytes" with prefix "net." gives index 0 and field "rx.bytes".</summary>
    private static bool TrySplitIndexed(ReadOnlySpan<char> key, string prefix, out int index, out ReadOnlySpan<char> field)
    {
        index = -1;
        field = default;
        if (!key.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = key[prefix.Length..];
        var dot = rest.IndexOf('.');
        if (dot <= 0 || !int.TryParse(rest[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out index))
        {
            index = -1;
            return false;
        }

        field = rest[(dot + 1)..];
        return true;
    }
}
