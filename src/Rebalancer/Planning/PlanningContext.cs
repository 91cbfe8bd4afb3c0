namespace Loadshift.Rebalancer.Planning;

/// <summary>One planning step's input with its indexes, built once per step (a step over 10,000 domains touches
/// each once), and the checks every strategy shares: the rules, the prediction, the choice of a target.</summary>
internal sealed class PlanningContext
{
    /// <summary>Busy ratios closer than this are a tie: idle hosts measure 0.002 or 0.004 by noise, and the
    /// choice should follow the inventory's order (the seed's HVM2 before HVM3), not the noise.</summary>
    internal const double HeadroomTieTolerance = 0.01;

    /// <summary>A decision keeps its first rejections only: relief on a host of 50 domains in a cluster of 200 hosts
    /// weighs 10,000 targets, and the simulator's week of 10,000 domains kept gigabytes of them.</summary>
    internal const int MaxRejections = 32;

    private static readonly IReadOnlyList<DomainView> None = [];
    private readonly Dictionary<string, List<DomainView>> byHost = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> committedMemory = new(StringComparer.Ordinal);

    public PlanningContext(PlanningInput input)
    {
        Input = input;
        Hosts = new Dictionary<string, HostView>(input.Hosts.Count, StringComparer.Ordinal);
        foreach (var host in input.Hosts)
        {
            Hosts[host.Name] = host;
        }
        foreach (var domain in input.Domains)
        {
            if (!byHost.TryGetValue(domain.Host, out var list))
            {
                byHost[domain.Host] = list = [];
            }
            list.Add(domain);
            committedMemory[domain.Host] = committedMemory.GetValueOrDefault(domain.Host) + domain.MemoryBytes;
        }
        foreach (var migration in input.InFlight)
        {
            HostsInFlight.Add(migration.Source);
            HostsInFlight.Add(migration.Target);
            DomainsInFlight.Add(migration.Domain);
        }
        Rules = new RuleIndex(input);
    }

    public PlanningInput Input { get; }

    public PlanningPolicy Policy => Input.Policy;

    public Dictionary<string, HostView> Hosts { get; }

    public HashSet<string> HostsInFlight { get; } = new(StringComparer.Ordinal);

    public HashSet<string> DomainsInFlight { get; } = new(StringComparer.Ordinal);

    /// <summary>The inventory's placement rules, indexed by domain.</summary>
    public RuleIndex Rules { get; }

    public IReadOnlyList<DomainView> DomainsOn(string host) => byHost.TryGetValue(host, out var list) ? list : None;

    /// <summary>The prediction: moving a domain that uses share s of the source's capacity onto the target adds
    /// s × capacity(source) / capacity(target) to the target's busy ratio and takes s from the source's.</summary>
    public static MigrationPlan PlanMove(DomainView domain, HostView source, HostView target)
    {
        var sourceBusy = source.BusyRatio ?? 0;
        var targetBusy = target.BusyRatio ?? 0;
        return new MigrationPlan(domain.Name, source.Name, target.Name, domain.CpuShare, domain.MemoryBytes,
            sourceBusy, Math.Max(0, sourceBusy - domain.CpuShare),
            targetBusy, targetBusy + (domain.CpuShare * source.CpuCapacity / target.CpuCapacity));
    }

    public bool MemoryFits(HostView target, DomainView domain)
    {
        if (target.MemoryAvailableBytes is long available && domain.MemoryBytes > available)
        {
            return false;
        }
        return target.MemoryBytes <= 0 || committedMemory.GetValueOrDefault(target.Name) + domain.MemoryBytes <= target.MemoryBytes;
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

    /// <summary>Weighs one target: the first hard rule that rejects it, else the soft rules it breaks.</summary>
    public Candidate Weigh(IReadOnlyList<ITargetRule> rules, DomainView domain, HostView source, HostView target)
    {
        var plan = PlanMove(domain, source, target);
        List<string>? soft = null;
        foreach (var rule in rules)
        {
            if (rule.Blocks(this, domain, target, plan) is not { } reason)
            {
                continue;
            }
            if (rule.Hard)
            {
                return new Candidate(plan, new Rejection(domain.Name, target.Name, rule.Name, reason), []);
            }
            (soft ??= []).Add($"{rule.Name}: {reason}");
        }
        return new Candidate(plan, null, soft ?? (IReadOnlyList<string>)[]);
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
        Candidate? best = null;
        foreach (var target in Input.Hosts)
        {
            if (target.Name == source.Name)
            {
                continue;
            }
            var candidate = Weigh(rules, domain, source, target);
            if (candidate.Rejected is { } rejection)
            {
                Reject(rejected, rejection);
            }
            else if (best is null || candidate.Penalty < best.Penalty
                || (candidate.Penalty == best.Penalty && candidate.Plan.TargetBusyAfter < best.Plan.TargetBusyAfter - HeadroomTieTolerance))
            {
                best = candidate;
            }
        }
        return best;
    }
}

/// <summary>One domain onto one target: the prediction, the hard rule that rejects it (if any) and the soft rules it breaks.</summary>
internal sealed record Candidate(MigrationPlan Plan, Rejection? Rejected, IReadOnlyList<string> SoftBroken)
{
    /// <summary>One per soft rule broken.</summary>
    public int Penalty => SoftBroken.Count;
}
