namespace Loadshift.Exporter.Libvirt;

/// <summary>
/// The bulk stats groups the exporter asks libvirt for, with libvirt's own bit values (virDomainStatsTypes,
/// libvirt-domain.h), so that a set of them is the stats argument of virConnectGetAllDomainStats as it is.
/// </summary>
[Flags]
internal enum StatsGroups : uint
{
    None = 0,

    /// <summary>state.state, state.reason.</summary>
    State = 1 << 0,

    /// <summary>cpu.time, cpu.user, cpu.system.</summary>
    CpuTotal = 1 << 1,

    /// <summary>balloon.current, balloon.maximum, balloon.rss, ...</summary>
    Balloon = 1 << 2,

    /// <summary>vcpu.current, vcpu.maximum, vcpu.&lt;n&gt;.time, ...</summary>
    Vcpu = 1 << 3,

    /// <summary>net.count, net.&lt;n&gt;.name, net.&lt;n&gt;.rx.bytes, ...</summary>
    Interface = 1 << 4,

    /// <summary>block.count, block.&lt;n&gt;.name, block.&lt;n&gt;.rd.reqs, ...</summary>
    Block = 1 << 5,

    /// <summary>Every group the exporter turns into metrics.</summary>
    All = State | CpuTotal | Balloon | Vcpu | Interface | Block,
}

internal static class StatsGroupKeys
{
    /// <summary>The group a bulk stats key belongs to, by its first part ("vcpu.0.time" is
    /// <see cref="StatsGroups.Vcpu"/>); <see cref="StatsGroups.None"/> for a key of a group the exporter does not
    /// ask for.</summary>
    public static StatsGroups GroupOf(string key)
    {
        var dot = key.IndexOf('.', StringComparison.Ordinal);
        var head = dot < 0 ? key.AsSpan() : key.AsSpan(0, dot);
        return head switch
        {
            "state" => StatsGroups.State,
            "cpu" => StatsGroups.CpuTotal,
            "balloon" => StatsGroups.Balloon,
            "vcpu" => StatsGroups.Vcpu,
            "net" => StatsGroups.Interface,
            "block" => StatsGroups.Block,
            _ => StatsGroups.None,
        };
    }
}
