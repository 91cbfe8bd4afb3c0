using Loadshift.Rebalancer.Planning;

namespace Loadshift.Rebalancer.Tests.Planning;

/// <summary>Builds planner inputs the way the seed describes its cluster: hosts with a busy ratio, domains with
/// their CPU share of their host. Defaults: 2 CPUs, 8 GiB, reachable, calm for the whole window.</summary>
internal sealed class Fixture
{
    public static readonly DateTimeOffset Now = new(2026, 11, 22, 3, 0, 0, TimeSpan.Zero);

    private readonly List<HostView> hosts = [];
    private readonly List<DomainView> domains = [];
    private readonly Dictionary<string, DomainHistory> history = new(StringComparer.Ordinal);
    private readonly List<MigrationInFlight> inFlight = [];
    private readonly List<DomainGroup> antiAffinity = [];
    private readonly List<DomainGroup> affinity = [];
    private readonly List<DomainHostRule> domainHost = [];
    private readonly List<RecentMove> recentMoves = [];

    public PlanningPolicy Policy { get; set; } = new(Cooldown: TimeSpan.FromMinutes(5), MaxCooldown: TimeSpan.FromHours(1));

    public Fixture Host(string name, double busy, double cpus = 2, long memory = 8L << 30, long? available = null,
        double? calmMax = null, bool maintenance = false, bool reachable = true, bool settling = false, long? total = null)
    {
        hosts.Add(new HostView(name, cpus, memory, busy, calmMax ?? busy, available, maintenance, reachable, settling, MemoryTotalBytes: total));
        return this;
    }

    public Fixture Domain(string name, string host, double share, long memory = 1L << 30, string? home = null, bool pinned = false,
        string? alsoOn = null, double? dirtyBytesPerSecond = null)
    {
        domains.Add(new DomainView(name, host, share, memory, home ?? host, pinned, alsoOn, DirtyBytesPerSecond: dirtyBytesPerSecond));
        return this;
    }

    public Fixture Moved(string domain, TimeSpan ago, int recent = 1, TimeSpan? endedAgo = null)
    {
        history[domain] = new DomainHistory(Now - ago, Now - (endedAgo ?? ago), recent);
        return this;
    }

    /// <summary>A successful migration of <paramref name="domain"/> from one host to another that started
    /// <paramref name="ago"/> and took a minute; the domain's history counts it (call in the order they happened).</summary>
    public Fixture Moved(string domain, string from, string to, TimeSpan ago)
    {
        var move = new RecentMove(domain, from, to, Now - ago, Now - ago + TimeSpan.FromMinutes(1));
        recentMoves.Add(move);
        var recent = recentMoves.Count(m => m.Domain == domain);
        history[domain] = new DomainHistory(move.StartedAt, move.EndedAt, recent);
        return this;
    }

    public Fixture Migrating(string domain, string source, string target)
    {
        inFlight.Add(new MigrationInFlight(domain, source, target, Now));
        return this;
    }

    public Fixture AntiAffinity(string name, bool hard, params string[] members)
    {
        antiAffinity.Add(new DomainGroup(name, members, hard));
        return this;
    }

    public Fixture Affinity(string name, params string[] members)
    {
        affinity.Add(new DomainGroup(name, members, Hard: false));
        return this;
    }

    public Fixture DomainHost(string domain, string[]? must = null, string[]? should = null, string[]? never = null)
    {
        domainHost.Add(new DomainHostRule(domain, must ?? [], should ?? [], never ?? []));
        return this;
    }

    public PlanningInput Input() => new(hosts, domains, history, inFlight, Policy, Now, new PlacementRules(antiAffinity, affinity, domainHost), recentMoves);

    /// <summary>The seed's cluster: VM1..VM3 on HVM1, HVM2 and HVM3 empty; client load pushes HVM1 past 80%.</summary>
    public static Fixture Seed() => new Fixture()
        .Host("hv1", busy: 0.93)
        .Host("hv2", busy: 0.04)
        .Host("hv3", busy: 0.05)
        .Domain("vm1", "hv1", 0.30)
        .Domain("vm2", "hv1", 0.29)
        .Domain("vm3", "hv1", 0.31);
}
