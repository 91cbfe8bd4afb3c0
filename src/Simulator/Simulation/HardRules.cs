using Loadshift.Rebalancer.Planning;

namespace Loadshift.Simulator.Simulation;

/// <summary>The inventory's hard placement rules by domain index, to count the moves of any policy that break one:
/// a hard anti-affinity group's member joining another member (running there or arriving), a target outside a
/// domain's <c>must</c> hosts or among its <c>never</c> hosts.</summary>
internal sealed class HardRules
{
    private readonly int[]?[] apart;
    private readonly HashSet<int>?[] must;
    private readonly HashSet<int>?[] never;

    private HardRules(int domains)
    {
        apart = new int[]?[domains];
        must = new HashSet<int>?[domains];
        never = new HashSet<int>?[domains];
    }

    public static HardRules Index(PlacementRules rules, IReadOnlyList<string> domains, IReadOnlyDictionary<string, int> hostIndex)
    {
        var index = new HardRules(domains.Count);
        var domainIndex = domains.Select((d, i) => (d, i)).ToDictionary(p => p.d, p => p.i, StringComparer.Ordinal);
        foreach (var group in rules.AntiAffinity.Where(g => g.Hard))
        {
            var members = group.Domains.Where(domainIndex.ContainsKey).Select(d => domainIndex[d]).ToArray();
            foreach (var m in members)
            {
                index.apart[m] = [.. index.apart[m] ?? [], .. members.Where(o => o != m)];
            }
        }
        foreach (var rule in rules.DomainHost)
        {
            if (domainIndex.TryGetValue(rule.Domain, out var d))
            {
                index.must[d] = rule.Must.Count > 0 ? [.. rule.Must.Select(h => hostIndex[h])] : null;
                index.never[d] = rule.Never.Count > 0 ? [.. rule.Never.Select(h => hostIndex[h])] : null;
            }
        }
        return index;
    }

    /// <summary>Moving <paramref name="domain"/> to <paramref name="target"/> breaks a hard rule.</summary>
    public bool Breaks(int domain, int target, int[] hostOf, int[] migratingTo)
    {
        if (must[domain] is { } hosts && !hosts.Contains(target))
        {
            return true;
        }
        if (never[domain] is { } not && not.Contains(target))
        {
            return true;
        }
        foreach (var other in apart[domain] ?? [])
        {
            if (hostOf[other] == target || migratingTo[other] == target)
            {
                return true;
            }
        }
        return false;
    }
}
