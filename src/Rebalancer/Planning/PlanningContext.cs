namespace Loadshift.Rebalancer.Planning;

/// <summary>One planning step's input with its indexes, each built on first use and once per step (a step over 10,000
/// domains touches each once; one a gate turns down, an in-flight limit say, touches none), and the checks every
/// strategy shares: the rules, the prediction, the choice of a target.</summary>
internal sealed class PlanningContext
{
    /// <summary>Busy ratios closer than this are a tie: idle hosts measure 0.002 or 0.004 by noise, and the
    /// choice should follow the inventory's order (the seed's HVM2 before HVM3), not the noise.</summary>
    internal const double HeadroomTieTolerance = 0.01;

    /// <summary>A decision keeps its first rejections only: relief on a host of 50 domains in a cluster of 200 hosts
    /// weighs 10,000 targets, and the simulator's week of 10,000 domains kept gigabytes of them.</summary>
    internal const int MaxRejections = 32;

    private static readonly IReadOnlyList<DomainView> None = [];
    private static readonly IReadOnlyList<RecentMove> NoMoves = [];
    private HostIndex? byHost;
    private Dictionary<string, List<RecentMove>>? movesOf;
    private RuleIndex? rules;

    public PlanningContext(PlanningInput input)
    {
        Input = input;
        Hosts = new Dictionary<string, HostView>(input.Hosts.Count, StringComparer.Ordinal);
        foreach (var host in input.Hosts)
        {
            Hosts[host.Name] = host;
        }
        foreach (var migration in input.InFlight)
        {
            HostsInFlight.Add(migration.Source);
            HostsInFlight.Add(migration.Target);
            DomainsInFlight.Add(migration.Domain);
        }
    }

    /// <summary>The domains by the host they run on, and the memory they commit there; built on first use (a gate's
    /// no-action needs neither).</summary>
    private sealed record HostIndex(Dictionary<string, List<DomainView>> Domains, Dictionary<string, long> CommittedMemory);

    private HostIndex ByHost => byHost ??= IndexByHost(Input.Domains);

    private static HostIndex IndexByHost(IReadOnlyList<DomainView> domains)
    {
        var index = new HostIndex(new(StringComparer.Ordinal), new(StringComparer.Ordinal));
        foreach (var domain in domains)
        {
            if (!index.Domains.TryGetValue(domain.Host, out var list))
            {
                index.Domains[domain.Host] = list = [];
            }
            list.Add(domain);
            index.CommittedMemory[domain.Host] = index.CommittedMemory.GetValueOrDefault(domain.Host) + domain.MemoryBytes;
        }
        return index;
    }

    private long CommittedMemory(string host) => ByHost.CommittedMemory.GetValueOrDefault(host);

    private Dictionary<string, List<RecentMove>> MovesOf
    {
        get
        {
            if (movesOf is null)
            {
                movesOf = new(StringComparer.Ordinal);
                foreach (var move in Input.RecentMoves ?? NoMoves)
                {
                    if (!movesOf.TryGetValue(move.Domain, out var list))
                    {
                        movesOf[move.Domain] = list = [];
                    }
                    list.Add(move);
                }
            }
            return movesOf;
        }
    }

    public PlanningInput Input { get; }

    public PlanningPolicy Policy => Input.Policy;

    public Dictionary<string, HostView> Hosts { get; }

    public HashSet<string> HostsInFlight { get; } = new(StringComparer.Ordinal);

    public HashSet<string> DomainsInFlight { get; } = new(StringComparer.Ordinal);

    /// <summary>The inventory's placement rules, indexed by domain.</summary>
    public RuleIndex Rules => rules ??= new RuleIndex(Input);

    /// <summary>The domain's recent moves, as the input orders them (oldest first).</summary>
    public IReadOnlyList<RecentMove> RecentMovesOf(string domain) => MovesOf.TryGetValue(domain, out var list) ? list : NoMoves;

    /// <summary>The domain's moves that started within policy.maxMovesWindow, the one in flight included.</summary>
    public int MovesWithinWindow(string domain)
    {
        var since = Input.Now - Policy.MaxMovesWindowOrDefault;
        var count = DomainsInFlight.Contains(domain) ? 1 : 0;
        foreach (var move in RecentMovesOf(domain))
        {
            if (move.StartedAt >= since)
            {
                count++;
            }
        }
        return count;
    }

    public IReadOnlyList<DomainView> DomainsOn(string host) => ByHost.Domains.TryGetValue(host, out var list) ? list : None;

    /// <summary>A guest that dirties memory faster than this share of the copy rate is taken to converge no faster
    /// (virsh migrate --auto-converge throttles it): the cost stays finite.</summary>
    internal const double MaxDirtyShare = 0.9;

    /// <summary>The prediction: moving a domain that uses share s of the source's capacity onto the target adds
    /// s × capacity(source) / capacity(target) to the target's busy ratio and takes s from the source's; the gain is how
    /// much the higher of the two busy ratios falls; the cost, see <see cref="CostBytes"/>.</summary>
    public static MigrationPlan PlanMove(DomainView domain, HostView source, HostView target, PlanningPolicy policy)
    {
        var sourceBusy = source.BusyRatio ?? 0;
        var targetBusy = target.BusyRatio ?? 0;
        var sourceAfter = Math.Max(0, sourceBusy - domain.CpuShare);
        var targetAfter = BusyAfter(domain, source, target);
        var cost = CostBytes(domain, policy);
        return new MigrationPlan(domain.Name, source.Name, target.Name, domain.CpuShare, domain.MemoryBytes,
            sourceBusy, sourceAfter, targetBusy, targetAfter,
            Gain: Math.Max(sourceBusy, targetBusy) - Math.Max(sourceAfter, targetAfter),
            CostBytes: cost, CostSeconds: cost / policy.MigrationBytesPerSecond);
    }

    /// <summary>The bytes a live migration of the domain copies: its memory once, then in each pre-copy round what the
    /// guest dirtied during the last, d/b of it (d its dirty rate, b policy.migrationBytesPerSecond): m / (1 − d/b), with
    /// d/b at most <see cref="MaxDirtyShare"/>.</summary>
    public static long CostBytes(DomainView domain, PlanningPolicy policy)
    {
        var bytes = (double)(domain.CopyBytes ?? domain.MemoryBytes);
        var dirtyShare = Math.Min(MaxDirtyShare, Math.Max(0, (domain.DirtyBytesPerSecond ?? 0) / policy.MigrationBytesPerSecond));
        return (long)(bytes / (1 - dirtyShare));
    }

    /// <summary>The target's busy ratio after the move, as in <see cref="PlanMove"/>, without building the plan.</summary>
    public static double BusyAfter(DomainView domain, HostView source, HostView target) =>
        (target.BusyRatio ?? 0) + (domain.CpuShare * source.CpuCapacity / target.CpuCapacity);

    /// <summary>The host's memory share of its own memory: used (MemTotal − MemAvailable) over MemTotal as the Exporter
    /// measures it; else the domains' maximum memory over the inventory's memoryBytes; null when neither is known.</summary>
    public double? MemoryShare(HostView host) => Share(host, null, 0);

    /// <summary>The host's memory share with <paramref name="domain"/> added (measured: its current memory) or taken
    /// away (<paramref name="sign"/> −1), as <see cref="MemoryShare"/> counts it; null when unknown.</summary>
    public double? MemoryShareWith(HostView host, DomainView domain, int sign = 1) => Share(host, domain, sign);

    /// <summary>Bytes over bytes, the domain's added before dividing: 9.5 GiB − 0.5 GiB of 10 is 0.90 exactly.</summary>
    private double? Share(HostView host, DomainView? domain, int sign)
    {
        if (host.MemoryTotalBytes is long total && total > 0 && host.MemoryAvailableBytes is long available)
        {
            return Math.Max(0, (double)(total - available + (sign * (domain is null ? 0 : domain.CopyBytes ?? domain.MemoryBytes))) / total);
        }
        return host.MemoryBytes > 0
            ? Math.Max(0, (double)(CommittedMemory(host.Name) + (sign * (domain?.MemoryBytes ?? 0))) / host.MemoryBytes)
            : null;
    }

    public bool MemoryFits(HostView target, DomainView domain)
    {
        if (target.MemoryAvailableBytes is long available && domain.MemoryBytes > available)
        {
            return false;
        }
        return target.MemoryBytes <= 0 || CommittedMemory(target.Name) + domain.MemoryBytes <= target.MemoryBytes;
    }

    /// <summary>The first domain rule that keeps <paramref name="domain"/> where it is, with its reason; null when it may move.</summary>
    public string? Blocks(IReadOnlyList<IDomainRule> rules, DomainView domain)
    {
        foreach (var rule in rules)
        {
            if (rule.Blocks(this, domain) is { } reason)
            {
                return reason;
            }
        }
        return null;
    }

    /// <summary>Weighs one target: the first hard rule that rejects it, else the soft rules it breaks. Builds no text
    /// and no plan: a relief weighs every target for every candidate.</summary>
    public Weight Weigh(IReadOnlyList<ITargetRule> rules, DomainView domain, HostView source, HostView target)
    {
        var busyAfter = BusyAfter(domain, source, target);
        List<ITargetRule>? soft = null;
        foreach (var rule in rules)
        {
            if (!rule.Rejects(this, domain, target, busyAfter))
            {
                continue;
            }
            if (rule.Hard)
            {
                return new Weight(busyAfter, rule, null);
            }
            (soft ??= []).Add(rule);
        }
        return new Weight(busyAfter, null, soft);
    }

    /// <summary>The rejection of a target <see cref="Weigh"/> found rejected, with its reason.</summary>
    public Rejection Rejection(Weight weight, DomainView domain, HostView target)
    {
        var rule = weight.RejectedBy ?? throw new ArgumentException("the target was not rejected", nameof(weight));
        return new Rejection(domain.Name, target.Name, rule.Name, rule.Reason(this, domain, target, weight.BusyAfter));
    }

    /// <summary>The move onto a target <see cref="Weigh"/> allowed, with the soft rules it breaks in words.</summary>
    public Candidate Candidate(Weight weight, DomainView domain, HostView source, HostView target)
    {
        var soft = weight.SoftBroken is { } broken
            ? broken.ConvertAll(rule => $"{rule.Name}: {rule.Reason(this, domain, target, weight.BusyAfter)}")
            : [];
        var plan = PlanMove(domain, source, target, Policy) with
        {
            SourceMemoryBefore = MemoryShare(source),
            SourceMemoryAfter = MemoryShareWith(source, domain, -1),
            TargetMemoryBefore = MemoryShare(target),
            TargetMemoryAfter = MemoryShareWith(target, domain),
        };
        return new Candidate(plan, soft);
    }

    /// <summary>Adds a rejection unless the decision holds <see cref="MaxRejections"/> already; the reason's text is
    /// made only for a rejection kept.</summary>
    public void Reject(List<Rejection> rejected, Weight weight, DomainView domain, HostView target)
    {
        if (rejected.Count < MaxRejections)
        {
            rejected.Add(Rejection(weight, domain, target));
        }
    }

    /// <summary>Adds a rejection unless the decision holds <see cref="MaxRejections"/> already.</summary>
    public static void Reject(List<Rejection> rejected, Rejection rejection)
    {
        if (rejected.Count < MaxRejections)
        {
            rejected.Add(rejection);
        }
    }

    /// <summary>The target no hard rule rejects that breaks the fewest soft rules (a soft rule's penalty outweighs any
    /// headroom), then has the lowest predicted busy ratio after the move; ties within <see cref="HeadroomTieTolerance"/>
    /// go to the host listed first in the inventory. Rejected targets are added to <paramref name="rejected"/> (the first <see cref="MaxRejections"/>).</summary>
    public Candidate? BestTarget(IReadOnlyList<ITargetRule> rules, DomainView domain, HostView source, List<Rejection> rejected)
    {
        HostView? bestTarget = null;
        var best = default(Weight);
        foreach (var target in Input.Hosts)
        {
            if (target.Name == source.Name)
            {
                continue;
            }
            var weight = Weigh(rules, domain, source, target);
            if (weight.RejectedBy is not null)
            {
                Reject(rejected, weight, domain, target);
            }
            else if (bestTarget is null || weight.Penalty < best.Penalty
                || (weight.Penalty == best.Penalty && weight.BusyAfter < best.BusyAfter - HeadroomTieTolerance))
            {
                bestTarget = target;
                best = weight;
            }
        }
        return bestTarget is null ? null : Candidate(best, domain, source, bestTarget);
    }
}

/// <summary>One domain onto one target as <see cref="PlanningContext.Weigh"/> found it: the predicted busy ratio of the
/// target, the hard rule that rejects it (if any) and the soft rules it breaks (null for none).</summary>
internal readonly record struct Weight(double BusyAfter, ITargetRule? RejectedBy, List<ITargetRule>? SoftBroken)
{
    /// <summary>One per soft rule broken.</summary>
    public int Penalty => SoftBroken?.Count ?? 0;
}

/// <summary>One domain onto one target no hard rule rejects: the prediction and the soft rules it breaks, in words.</summary>
internal sealed record Candidate(MigrationPlan Plan, IReadOnlyList<string> SoftBroken)
{
    /// <summary>One per soft rule broken.</summary>
    public int Penalty => SoftBroken.Count;

    /// <summary>The candidates of a decision as it keeps them (the first <see cref="PlanningContext.MaxRejections"/>),
    /// <paramref name="chosen"/> marked.</summary>
    public static IReadOnlyList<ConsideredMove> Considered(IEnumerable<Candidate> candidates, Candidate? chosen) =>
        [.. candidates.Take(PlanningContext.MaxRejections).Select(c => new ConsideredMove(c.Plan, c.SoftBroken, ReferenceEquals(c, chosen), c.Plan.CostSeconds))];
}
