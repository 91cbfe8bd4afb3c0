namespace Loadshift.Rebalancer.Inventory;

/// <summary>The hosts the Rebalancer may move domains between, the domains it must never move and the placement rules.
/// Bound from the inventory's top-level <c>hosts</c>, <c>pinned</c> and <c>rules</c> keys.</summary>
public sealed class InventoryOptions
{
    public List<InventoryHost> Hosts { get; init; } = [];

    /// <summary>Domains (libvirt's word for a VM) that never move, not even for a drain.</summary>
    public List<string> Pinned { get; init; } = [];

    /// <summary>Placement rules: anti-affinity and affinity groups, domain-host rules.</summary>
    public RuleOptions Rules { get; init; } = new();

    /// <summary>The domains the rules name, for the log line about those not seen on any host yet.</summary>
    public IEnumerable<string> RuleDomains() =>
        Rules.AntiAffinity.Concat(Rules.Affinity).SelectMany(g => g.Domains).Concat(Rules.DomainHost.Select(r => r.Domain))
            .Distinct(StringComparer.Ordinal);

    public InventoryHost? FindHost(string name) => Hosts.Find(h => string.Equals(h.Name, name, StringComparison.Ordinal));

    /// <summary>The home host each domain was given in the inventory (<c>hosts[].home</c>).</summary>
    public IReadOnlyDictionary<string, string> ConfiguredHomes()
    {
        var homes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var host in Hosts)
        {
            foreach (var domain in host.Home)
            {
                homes[domain] = host.Name;
            }
        }
        return homes;
    }
}

public sealed class InventoryHost
{
    /// <summary>The name used in the <c>host</c> label of the exporter's metrics and of the alerts.</summary>
    public string Name { get; set; } = "";

    /// <summary>libvirt connection URI, e.g. <c>qemu+tcp://10.0.0.1/system</c> or <c>qemu+ssh://root@hv1/system</c>.</summary>
    public string LibvirtUri { get; set; } = "";

    /// <summary>CPU capacity in CPUs (may be fractional for a cgroup quota). Converts a domain's share of one
    /// host into a share of another.</summary>
    public double CpuCapacity { get; set; }

    /// <summary>Memory the host may give to domains, in bytes.</summary>
    public long MemoryBytes { get; set; }

    /// <summary>Set in the inventory: the host is drained and receives nothing.</summary>
    public bool Maintenance { get; set; }

    /// <summary>Domains whose home is this host (optional; otherwise the host a domain is first seen on).</summary>
    public List<string> Home { get; init; } = [];
}
