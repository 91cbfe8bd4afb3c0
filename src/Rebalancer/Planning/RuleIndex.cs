namespace Loadshift.Rebalancer.Planning;

/// <summary>The placement rules indexed by domain, with where each domain runs (a domain in a migration counts on
/// its target too: it is about to be there).</summary>
internal sealed class RuleIndex
{
    private static readonly IReadOnlyList<DomainGroup> NoGroups = [];
    private readonly Dictionary<string, List<DomainGroup>> antiAffinity = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<DomainGroup>> affinity = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DomainHostRule> domainHost = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> hostsOf = new(StringComparer.Ordinal);

    public RuleIndex(PlanningInput input)
    {
        var rules = input.Rules ?? PlacementRules.None;
        Index(rules.AntiAffinity, antiAffinity);
        Index(rules.Affinity, affinity);
        foreach (var rule in rules.DomainHost)
        {
            domainHost[rule.Domain] = rule;
        }
        // Where the groups' members run, and only theirs: a step over 10,000 domains with no group indexes none.
        if (antiAffinity.Count + affinity.Count == 0)
        {
            return;
        }
        foreach (var domain in input.Domains)
        {
            if (IsMember(domain.Name))
            {
                On(domain.Name).Add(domain.Host);
            }
        }
        foreach (var migration in input.InFlight)
        {
            if (IsMember(migration.Domain))
            {
                On(migration.Domain).Add(migration.Target);
            }
        }
    }

    public IReadOnlyList<DomainGroup> AntiAffinityOf(string domain) => antiAffinity.TryGetValue(domain, out var g) ? g : NoGroups;

    public IReadOnlyList<DomainGroup> AffinityOf(string domain) => affinity.TryGetValue(domain, out var g) ? g : NoGroups;

    public DomainHostRule? DomainHostOf(string domain) => domainHost.GetValueOrDefault(domain);

    /// <summary>The other members of <paramref name="group"/> that run (or are arriving) on <paramref name="host"/>.</summary>
    public IEnumerable<string> MembersOn(DomainGroup group, string domain, string host) =>
        group.Domains.Where(m => m != domain && hostsOf.TryGetValue(m, out var on) && on.Contains(host));

    /// <summary>The first of <see cref="MembersOn"/>, or null; without an enumerator, as rules ask it for every target.</summary>
    public string? FirstMemberOn(DomainGroup group, string domain, string host)
    {
        foreach (var member in group.Domains)
        {
            if (member != domain && hostsOf.TryGetValue(member, out var on) && on.Contains(host))
            {
                return member;
            }
        }
        return null;
    }

    /// <summary>Another member of <paramref name="group"/> runs somewhere.</summary>
    public bool AnyMemberRunning(DomainGroup group, string domain)
    {
        foreach (var member in group.Domains)
        {
            if (member != domain && hostsOf.ContainsKey(member))
            {
                return true;
            }
        }
        return false;
    }

    private bool IsMember(string domain) => antiAffinity.ContainsKey(domain) || affinity.ContainsKey(domain);

    private HashSet<string> On(string domain)
    {
        if (!hostsOf.TryGetValue(domain, out var on))
        {
            hostsOf[domain] = on = new HashSet<string>(StringComparer.Ordinal);
        }
        return on;
    }

    private static void Index(IReadOnlyList<DomainGroup> groups, Dictionary<string, List<DomainGroup>> byDomain)
    {
        foreach (var group in groups)
        {
            foreach (var domain in group.Domains)
            {
                if (!byDomain.TryGetValue(domain, out var list))
                {
                    byDomain[domain] = list = [];
                }
                list.Add(group);
            }
        }
    }
}
