namespace Loadshift.Exporter.Libvirt;

/// <summary>One typed parameter's value, copied out of libvirt's memory: a number, or text for string parameters.</summary>
internal readonly record struct StatValue(double Number, string? Text)
{
    public static StatValue Of(double number) => new(number, null);

    public static StatValue Of(string text) => new(double.NaN, text);
}

/// <summary>One domain's bulk stats as virConnectGetAllDomainStats returned them, keys as libvirt names them
/// ("cpu.time", "vcpu.0.time", "net.0.rx.bytes", ...): the same keys `virsh domstats --raw` prints.</summary>
internal sealed record DomainStatsRecord(string Name, string Uuid, IReadOnlyList<KeyValuePair<string, StatValue>> Stats);

/// <summary>Where the exporter gets domain stats from: libvirt, or a fake below this interface in unit tests.</summary>
internal interface IDomainStatsSource
{
    /// <summary>Every domain's stats of the <paramref name="groups"/> asked (a record may lack what libvirt could
    /// not read), or a <see cref="LibvirtException"/> when libvirt failed or did not answer by the deadline.</summary>
    Task<IReadOnlyList<DomainStatsRecord>> GetAllDomainStatsAsync(
        StatsGroups groups, TimeSpan deadline, CancellationToken cancellationToken);
}
