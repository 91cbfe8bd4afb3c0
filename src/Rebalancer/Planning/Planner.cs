using System.Globalization;
using System.Text;

namespace Loadshift.Rebalancer.Planning;

/// <summary>Decides one move at a time. A pure function of <see cref="PlanningInput"/>: no I/O, no clock,
/// no randomness, so every decision can be replayed from the journal and tested on fixtures.</summary>
/// <remarks>Prediction: moving a domain that uses share s of host A's capacity onto host B adds
/// s × capacity(A) / capacity(B) to B's busy ratio and takes s from A's (the same work on fewer CPUs is a
/// larger share). A target qualifies only if its predicted busy ratio stays under the high watermark, so
/// the domain is not bounced back (oVirt's rule), and its memory fits.</remarks>
public static class Planner
{
    /// <summary>A host's HypervisorCpuHigh fires: pick the domain whose move brings it under the high watermark
    /// while moving the least load (else the busiest, as the seed's main_script.sh did), and send it to the
    /// host with the most headroom after the move.</summary>
    public static Decision PlanRelief(PlanningInput input, string hostName)
    {
        var cluster = new Cluster(input);
        const DecisionKind kind = DecisionKind.Relief;
        if (!cluster.Hosts.TryGetValue(hostName, out var source))
        {
            return Decision.NoAction(kind, hostName, Reasons.UnknownHost, $"{hostName} is not in the inventory");
        }
        if (!source.Reachable)
        {
            return Decision.NoAction(kind, hostName, Reasons.HostUnreachable, $"libvirt on {hostName} does not answer");
        }
        if (source.BusyRatio is not double busy)
        {
            return Decision.NoAction(kind, hostName, Reasons.NoMetrics, $"Prometheus has no busy ratio for {hostName}");
        }
        var high = input.Policy.HighWatermark;
        if (busy <= high)
        {
            return Decision.NoAction(kind, hostName, Reasons.NotOverloaded,
                $"{hostName} busy {F(busy)} is not above the high watermark {F(high)}");
        }
        if (input.InFlight.Count >= input.Policy.MaxMigrationsInFlight)
        {
            return Decision.NoAction(kind, hostName, Reasons.InFlightLimit,
                $"{input.InFlight.Count} migration(s) in flight, limit {input.Policy.MaxMigrationsInFlight}");
        }
        if (cluster.HostsInFlight.Contains(hostName))
        {
            return Decision.NoAction(kind, hostName, Reasons.HostInMigration, $"{hostName} is already in a migration");
        }

        var skipped = new StringBuilder();
        var candidates = new List<DomainView>();
        foreach (var domain in cluster.DomainsOn(hostName))
        {
            if (domain.Pinned)
            {
                skipped.Append(CultureInfo.InvariantCulture, $" {domain.Name}: pinned;");
            }
            else if (cluster.DomainsInFlight.Contains(domain.Name))
            {
                skipped.Append(CultureInfo.InvariantCulture, $" {domain.Name}: in a migration;");
            }
            else if (domain.AlsoOn is { } other)
            {
                skipped.Append(CultureInfo.InvariantCulture, $" {domain.Name}: libvirt shows it on {other} too;");
            }
            else if (CooldownUntil(input.History.GetValueOrDefault(domain.Name), input.Policy) is { } until && until > input.Now)
            {
                skipped.Append(CultureInfo.InvariantCulture, $" {domain.Name}: cooling down until {until:O};");
            }
            else if (!(domain.CpuShare > 0))
            {
                // No load figure yet (e.g. just started): moving it blind would relieve nothing.
                skipped.Append(CultureInfo.InvariantCulture, $" {domain.Name}: no CPU figure;");
            }
            else
            {
                candidates.Add(domain);
            }
        }
        if (candidates.Count == 0)
        {
            return Decision.NoAction(kind, hostName, Reasons.NoMovableDomain,
                $"{hostName} busy {F(busy)} > {F(high)} but no domain may move:{skipped}");
        }

        MigrationPlan? lightestRelieving = null;
        MigrationPlan? busiest = null;
        foreach (var domain in candidates)
        {
            if (cluster.BestTarget(domain, source) is not { } plan)
            {
                skipped.Append(CultureInfo.InvariantCulture, $" {domain.Name}: no host has room;");
                continue;
            }
            if (plan.SourceBusyAfter < high && (lightestRelieving is null || Lighter(plan, lightestRelieving)))
            {
                lightestRelieving = plan;
            }
            if (busiest is null || Lighter(busiest, plan))
            {
                busiest = plan;
            }
        }
        var chosen = lightestRelieving ?? busiest;
        if (chosen is null)
        {
            if (input.Hosts.Where(h => h.Settling && h.Name != hostName).Select(h => h.Name).ToList() is { Count: > 0 } settling)
            {
                skipped.Append(CultureInfo.InvariantCulture, $" settling from a migration, taking nothing yet: {string.Join(", ", settling)};");
            }
            return Decision.NoAction(kind, hostName, Reasons.NoTarget,
                $"{hostName} busy {F(busy)} > {F(high)} but no target stays under {F(high)} with memory to spare:{skipped}");
        }
        var why = lightestRelieving is not null
            ? "the lightest domain whose move brings it under the high watermark"
            : "no single move brings it under the high watermark, so the busiest domain";
        return new Decision(kind, hostName, DecisionOutcome.Migrate, Reasons.Overloaded,
            $"{hostName} busy {F(busy)} > {F(high)}: {why}; {Describe(chosen)}", chosen);
    }

    /// <summary>Bring one domain home: the last moved first, once its home host stayed under the low watermark
    /// for the calm window and the return keeps it under the high watermark.</summary>
    public static Decision PlanReturnHome(PlanningInput input)
    {
        var cluster = new Cluster(input);
        const DecisionKind kind = DecisionKind.ReturnHome;
        var away = input.Domains
            .Where(d => d.HomeHost is not null && d.HomeHost != d.Host && !d.Pinned && !cluster.DomainsInFlight.Contains(d.Name))
            .OrderByDescending(d => input.History.GetValueOrDefault(d.Name)?.LastMovedAt ?? DateTimeOffset.MinValue)
            .ThenBy(d => d.Name, StringComparer.Ordinal)
            .ToList();
        if (away.Count == 0)
        {
            return Decision.NoAction(kind, "", Reasons.NothingAway, "every domain is on its home host");
        }
        if (input.InFlight.Count >= input.Policy.MaxMigrationsInFlight)
        {
            return Decision.NoAction(kind, away[0].HomeHost!, Reasons.InFlightLimit,
                $"{input.InFlight.Count} migration(s) in flight, limit {input.Policy.MaxMigrationsInFlight}");
        }
        var high = input.Policy.HighWatermark;
        var low = input.Policy.LowWatermark;
        var notReady = new StringBuilder();
        foreach (var domain in away)
        {
            var why = "";
            if (domain.AlsoOn is { } other)
            {
                why = $"libvirt shows it on {domain.Host} and {other}";
            }
            else if (!cluster.Hosts.TryGetValue(domain.HomeHost!, out var home))
            {
                why = $"home {domain.HomeHost} is not in the inventory";
            }
            else if (!home.Reachable)
            {
                why = $"libvirt on {home.Name} does not answer";
            }
            else if (home.Maintenance)
            {
                why = $"{home.Name} is in maintenance";
            }
            else if (cluster.HostsInFlight.Contains(home.Name) || cluster.HostsInFlight.Contains(domain.Host))
            {
                why = $"{home.Name} or {domain.Host} is in a migration";
            }
            else if (home.BusyRatio is null || home.CalmWindowMaxBusyRatio is not double calmMax)
            {
                why = $"no busy ratio for {home.Name}";
            }
            else if (calmMax >= low)
            {
                why = $"{home.Name} reached {F(calmMax)} within the calm window, not under the low watermark {F(low)}";
            }
            else if (!cluster.Hosts.TryGetValue(domain.Host, out var current))
            {
                why = $"{domain.Host} is not in the inventory";
            }
            else
            {
                var plan = Cluster.PlanMove(domain, current, home);
                if (plan.TargetBusyAfter >= high)
                {
                    why = $"{home.Name} would reach {F(plan.TargetBusyAfter)}, not under {F(high)}";
                }
                else if (!cluster.MemoryFits(home, domain))
                {
                    why = $"{domain.Name}'s memory does not fit on {home.Name}";
                }
                else
                {
                    return new Decision(kind, home.Name, DecisionOutcome.Migrate, Reasons.ReturnHome,
                        $"{home.Name} stayed under {F(low)} (at most {calmMax.ToString("0.000", CultureInfo.InvariantCulture)}); {Describe(plan)}", plan);
                }
            }
            notReady.Append(CultureInfo.InvariantCulture, $" {domain.Name}: {why};");
        }
        return Decision.NoAction(kind, away[0].HomeHost!, Reasons.HomeNotReady, $"no domain can return yet:{notReady}");
    }

    /// <summary>A host in maintenance: move its domains off, busiest first, to the hosts with most headroom.
    /// Cooldowns do not apply: an operator asked for it.</summary>
    public static Decision PlanDrain(PlanningInput input, string hostName)
    {
        var cluster = new Cluster(input);
        const DecisionKind kind = DecisionKind.Drain;
        if (!cluster.Hosts.TryGetValue(hostName, out var source))
        {
            return Decision.NoAction(kind, hostName, Reasons.UnknownHost, $"{hostName} is not in the inventory");
        }
        if (!source.Reachable)
        {
            return Decision.NoAction(kind, hostName, Reasons.HostUnreachable, $"libvirt on {hostName} does not answer");
        }
        var movable = cluster.DomainsOn(hostName)
            .Where(d => !d.Pinned && d.AlsoOn is null && !cluster.DomainsInFlight.Contains(d.Name))
            .OrderByDescending(d => d.CpuShare).ThenByDescending(d => d.MemoryBytes).ThenBy(d => d.Name, StringComparer.Ordinal)
            .ToList();
        if (movable.Count == 0)
        {
            var moving = string.Join(", ", cluster.DomainsOn(hostName).Where(d => !d.Pinned).Select(d => d.Name));
            if (moving.Length > 0)
            {
                // Not complete: what is left is in a migration (or libvirt shows it on two hosts).
                return Decision.NoAction(kind, hostName, Reasons.HostInMigration, $"{hostName} is in maintenance; in a migration: {moving}");
            }
            var pinned = string.Join(", ", cluster.DomainsOn(hostName).Where(d => d.Pinned).Select(d => d.Name));
            return Decision.NoAction(kind, hostName, Reasons.DrainComplete,
                pinned.Length == 0 ? $"{hostName} holds no movable domain" : $"{hostName} holds only pinned domains: {pinned}");
        }
        if (input.InFlight.Count >= input.Policy.MaxMigrationsInFlight)
        {
            return Decision.NoAction(kind, hostName, Reasons.InFlightLimit,
                $"{input.InFlight.Count} migration(s) in flight, limit {input.Policy.MaxMigrationsInFlight}");
        }
        foreach (var domain in movable)
        {
            if (cluster.BestTarget(domain, source) is { } plan)
            {
                return new Decision(kind, hostName, DecisionOutcome.Migrate, Reasons.Drain,
                    $"{hostName} is in maintenance; {Describe(plan)}", plan);
            }
        }
        return Decision.NoAction(kind, hostName, Reasons.NoTarget,
            $"{hostName} is in maintenance but no host has room for {string.Join(", ", movable.Select(d => d.Name))}");
    }

    /// <summary>When a domain may be moved away again: the cooldown after its last migration, multiplied by
    /// the back-off for each further migration in the back-off window, capped.</summary>
    public static DateTimeOffset? CooldownUntil(DomainHistory? history, PlanningPolicy policy)
    {
        if (history?.LastMigrationEndedAt is not { } ended)
        {
            return null;
        }
        var moves = Math.Max(1, history.RecentMigrations);
        var seconds = policy.CooldownOrDefault.TotalSeconds * Math.Pow(policy.CooldownBackoff, moves - 1);
        var cooldown = TimeSpan.FromSeconds(Math.Min(seconds, policy.MaxCooldownOrDefault.TotalSeconds));
        return ended + cooldown;
    }

    /// <summary>Busy ratios closer than this are a tie: idle hosts measure 0.002 or 0.004 by noise, and the
    /// choice should follow the inventory's order (the seed's HVM2 before HVM3), not the noise.</summary>
    internal const double HeadroomTieTolerance = 0.01;

    private static bool Lighter(MigrationPlan a, MigrationPlan b) =>
        a.DomainShare < b.DomainShare || (a.DomainShare == b.DomainShare && string.CompareOrdinal(a.Domain, b.Domain) < 0);

    internal static string Describe(MigrationPlan p) =>
        $"{p.Domain} ({F(p.DomainShare)} of {p.Source}) to {p.Target}: {p.Source} {F(p.SourceBusyBefore)} -> {F(p.SourceBusyAfter)}, " +
        $"{p.Target} {F(p.TargetBusyBefore)} -> {F(p.TargetBusyAfter)}";

    internal static string F(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);

    /// <summary>Indexes built once per planning step (a step over 10,000 domains touches each once).</summary>
    private sealed class Cluster
    {
        private static readonly IReadOnlyList<DomainView> None = [];
        private readonly PlanningInput input;
        private readonly Dictionary<string, List<DomainView>> byHost = new(StringComparer.Ordinal);
        private readonly Dictionary<string, long> committedMemory = new(StringComparer.Ordinal);

        public Cluster(PlanningInput input)
        {
            this.input = input;
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
        }

        public Dictionary<string, HostView> Hosts { get; }

        public HashSet<string> HostsInFlight { get; } = new(StringComparer.Ordinal);

        public HashSet<string> DomainsInFlight { get; } = new(StringComparer.Ordinal);

        public IReadOnlyList<DomainView> DomainsOn(string host) => byHost.TryGetValue(host, out var list) ? list : None;

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

        /// <summary>The eligible host with the lowest predicted busy ratio after the move (most headroom);
        /// ties, within <see cref="HeadroomTieTolerance"/>, go to the host listed first in the inventory.</summary>
        public MigrationPlan? BestTarget(DomainView domain, HostView source)
        {
            MigrationPlan? best = null;
            foreach (var target in input.Hosts)
            {
                if (target.Name == source.Name || !target.Reachable || target.Maintenance
                    || target.BusyRatio is null || HostsInFlight.Contains(target.Name) || target.Settling)
                {
                    continue;
                }
                var plan = PlanMove(domain, source, target);
                if (plan.TargetBusyAfter < input.Policy.HighWatermark && MemoryFits(target, domain)
                    && (best is null || plan.TargetBusyAfter < best.TargetBusyAfter - HeadroomTieTolerance))
                {
                    best = plan;
                }
            }
            return best;
        }
    }
}
