namespace Loadshift.Exporter.Libvirt;

/// <summary>
/// Asks libvirt for its slow stats groups (<see cref="Slow"/>) at most every <c>interval</c> and for the others at
/// every collection, serving each domain's slow groups from the last call that asked for them in between
/// (--collector.libvirt.slow-groups-interval). libvirtd answers the vCPU and block groups by taking each domain's
/// job and asking its QEMU (query-blockstats, query-named-block-nodes), which is most of a bulk call's time on a
/// busy host (docs/benchmarks.md); state, CPU totals, balloon and interfaces it reads from its own memory and the
/// host's /proc.
/// </summary>
/// <remarks>
/// The slow groups are asked again at once, in the same collection, for every domain when one domain is new (or
/// has a new UUID), changed state, or reports less CPU time than before (it was started again): their series are
/// never missing, and never those of a domain's earlier run. A domain that is gone from a collection is gone from
/// the cache. One caller at a time (the Scraper shares one collection among overlapping scrapes).
/// </remarks>
internal sealed class SlowGroupsCache(IDomainStatsSource source, TimeSpan interval, TimeProvider time) : IDomainStatsSource
{
    /// <summary>The groups asked at most every interval.</summary>
    public const StatsGroups Slow = StatsGroups.Vcpu | StatsGroups.Block;

    private Dictionary<string, Domain> _domains = new(StringComparer.Ordinal);
    private long? _slowAskedAt;

    public async Task<IReadOnlyList<DomainStatsRecord>> GetAllDomainStatsAsync(
        StatsGroups groups, TimeSpan deadline, CancellationToken cancellationToken)
    {
        var slow = groups & Slow;
        var started = time.GetTimestamp();
        if (slow == StatsGroups.None || _slowAskedAt is null || time.GetElapsedTime(_slowAskedAt.Value) >= interval)
        {
            var records = await source.GetAllDomainStatsAsync(groups, deadline, cancellationToken).ConfigureAwait(false);
            Remember(records, records, slow, started);
            return records;
        }

        var fresh = await source.GetAllDomainStatsAsync(groups & ~Slow, deadline, cancellationToken).ConfigureAwait(false);
        if (fresh.Any(IsNewRun))
        {
            var left = deadline - time.GetElapsedTime(started);
            if (left <= TimeSpan.Zero)
            {
                throw new LibvirtException($"no time left within {deadline.TotalSeconds:0.###} s to ask libvirt for the slow stats groups of a new domain");
            }

            var slowRecords = await source.GetAllDomainStatsAsync(slow, left, cancellationToken).ConfigureAwait(false);
            Remember(fresh, slowRecords, slow, started);
        }
        else
        {
            Remember(fresh, [], StatsGroups.None, started);
        }

        return [.. fresh.Select(Merge)];
    }

    /// <summary>Is this record's domain not the one the cache holds the slow groups of: new, with a new UUID, in
    /// another state, or with less CPU time than before?</summary>
    private bool IsNewRun(DomainStatsRecord record) =>
        !_domains.TryGetValue(record.Name, out var known) ||
        !string.Equals(known.Uuid, record.Uuid, StringComparison.Ordinal) ||
        !Same(known.State, Value(record, "state.state")) ||
        !Same(known.StateReason, Value(record, "state.reason")) ||
        Value(record, "cpu.time") < known.CpuTime;

    private static bool Same(double a, double b) => a.Equals(b); // NaN, a value libvirt left out, equals NaN

    /// <summary>Keeps the domains of <paramref name="current"/> (the others are gone), with the slow groups from
    /// <paramref name="slowRecords"/> when <paramref name="slow"/> were asked, else those kept.</summary>
    private void Remember(
        IReadOnlyList<DomainStatsRecord> current, IReadOnlyList<DomainStatsRecord> slowRecords, StatsGroups slow, long askedAt)
    {
        var bySlowName = slowRecords.ToDictionary(r => r.Name, StringComparer.Ordinal);
        var domains = new Dictionary<string, Domain>(current.Count, StringComparer.Ordinal);
        foreach (var record in current)
        {
            IReadOnlyList<KeyValuePair<string, StatValue>> slowStats;
            if (slow != StatsGroups.None)
            {
                slowStats = bySlowName.TryGetValue(record.Name, out var s) && string.Equals(s.Uuid, record.Uuid, StringComparison.Ordinal)
                    ? [.. s.Stats.Where(kv => (StatsGroupKeys.GroupOf(kv.Key) & slow) != 0)]
                    : [];
            }
            else
            {
                slowStats = _domains.TryGetValue(record.Name, out var known) ? known.SlowStats : [];
            }

            domains[record.Name] = new Domain(
                record.Uuid, Value(record, "state.state"), Value(record, "state.reason"), Value(record, "cpu.time"), slowStats);
        }

        _domains = domains;
        if (slow != StatsGroups.None)
        {
            _slowAskedAt = askedAt;
        }
    }

    /// <summary>The record's own groups but the slow ones, and the slow ones kept for its domain.</summary>
    private DomainStatsRecord Merge(DomainStatsRecord record)
    {
        var kept = _domains[record.Name].SlowStats;
        return record with { Stats = [.. record.Stats.Where(kv => (StatsGroupKeys.GroupOf(kv.Key) & Slow) == 0), .. kept] };
    }

    private static double Value(DomainStatsRecord record, string key)
    {
        foreach (var (k, v) in record.Stats)
        {
            if (string.Equals(k, key, StringComparison.Ordinal))
            {
                return v.Number;
            }
        }

        return double.NaN;
    }

    /// <summary>What the cache knows of one domain: who it is, what says whether it is still the same run, and its
    /// slow groups' stats as last asked.</summary>
    private sealed record Domain(
        string Uuid, double State, double StateReason, double CpuTime, IReadOnlyList<KeyValuePair<string, StatValue>> SlowStats);
}
