namespace Loadshift.Rebalancer.Planning;

/// <summary>The gates every strategy shares, in one place: the in-flight limit, a host already in a migration,
/// a domain's cooldown, a host settling from a migration; and the pass's own (<see cref="Planner.PlanPass"/>): one
/// decision per host per policy.decisionWindow, none for a host settling from a migration.</summary>
internal static class Gates
{
    /// <summary>Why a host gets no decision now, or null: it is in a migration, or one touched it less than
    /// policy.settleTime ago and its 1m busy ratio does not show the move yet.</summary>
    public static string? Settling(PlanningInput input, string host)
    {
        var settle = input.Policy.SettleTimeOrDefault;
        foreach (var migration in input.InFlight)
        {
            if (migration.Source == host || migration.Target == host)
            {
                return $"{host} is in a migration; its busy ratio shows the move policy.settleTime ({settle.TotalSeconds:0} s) after it ends";
            }
        }
        foreach (var view in input.Hosts)
        {
            if (view.Name == host && view.LastMigrationEndedAt is { } ended && input.Now - ended < settle)
            {
                return $"a migration touched {host} until {ended:O}; its busy ratio shows the move at {ended + settle:O} (policy.settleTime)";
            }
        }
        return null;
    }

    /// <summary>A decision of this kind about this host was journaled within policy.decisionWindow (not counting the
    /// waits for a host to settle when <paramref name="exceptSettling"/>).</summary>
    public static bool WithinWindow(PassInput pass, DecisionKind kind, string host, bool exceptSettling) =>
        pass.LastDecisions.TryGetValue((kind, host), out var last)
        && (exceptSettling ? last.NotSettlingAt : last.At) is { } at
        && pass.Planning.Now - at < pass.Planning.Policy.DecisionWindowOrDefault;

    /// <summary>No action for a host not in the inventory or whose libvirt does not answer.</summary>
    public static Decision? Source(PlanningContext context, DecisionKind kind, string host, out HostView source)
    {
        if (!context.Hosts.TryGetValue(host, out source!))
        {
            return Decision.NoAction(kind, host, Reasons.UnknownHost, $"{host} is not in the inventory");
        }
        return source.Reachable ? null : Decision.NoAction(kind, host, Reasons.HostUnreachable, $"libvirt on {host} does not answer");
    }

    /// <summary>No action when policy.maxMigrationsInFlight migrations already run.</summary>
    public static Decision? InFlightLimit(PlanningContext context, DecisionKind kind, string host)
    {
        var input = context.Input;
        return input.InFlight.Count >= input.Policy.MaxMigrationsInFlight
            ? Decision.NoAction(kind, host, Reasons.InFlightLimit,
                $"{input.InFlight.Count} migration(s) in flight, limit {input.Policy.MaxMigrationsInFlight}")
            : null;
    }

    /// <summary>No action for a source already in a migration: its busy ratio is about to change.</summary>
    public static Decision? HostInMigration(PlanningContext context, DecisionKind kind, string host) =>
        context.HostsInFlight.Contains(host)
            ? Decision.NoAction(kind, host, Reasons.HostInMigration, $"{host} is already in a migration")
            : null;

    /// <summary>When a domain may be moved away again: the cooldown after its last migration, multiplied by
    /// the back-off for each further migration in the back-off window, capped, times the domain's factor (a move
    /// that did not help lengthens it).</summary>
    public static DateTimeOffset? CooldownUntil(DomainHistory? history, PlanningPolicy policy)
    {
        if (history?.LastMigrationEndedAt is not { } ended)
        {
            return null;
        }
        return ended + Cooldown(history, policy);
    }

    /// <summary>The domain's cooldown: policy.cooldown × policy.cooldownBackoff^(moves in the back-off window − 1), capped.</summary>
    public static TimeSpan Cooldown(DomainHistory? history, PlanningPolicy policy)
    {
        var moves = Math.Max(1, history?.RecentMigrations ?? 1);
        var seconds = policy.CooldownOrDefault.TotalSeconds * Math.Pow(policy.CooldownBackoff, moves - 1);
        return TimeSpan.FromSeconds(Math.Min(seconds, policy.MaxCooldownOrDefault.TotalSeconds) * (history?.CooldownFactor ?? 1));
    }

    /// <summary>The domain moved within its cooldown.</summary>
    public sealed class CoolingDown : IDomainRule
    {
        public string? Blocks(PlanningContext context, DomainView domain) =>
            CooldownUntil(context.Input.History.GetValueOrDefault(domain.Name), context.Policy) is { } until && until > context.Input.Now
                ? $"cooling down until {until:O}"
                : null;
    }

    /// <summary>The domain is in a migration now.</summary>
    public sealed class InMigration : IDomainRule
    {
        public string? Blocks(PlanningContext context, DomainView domain) =>
            context.DomainsInFlight.Contains(domain.Name) ? "in a migration" : null;
    }

    /// <summary>A target in a migration: its busy ratio is about to change.</summary>
    public sealed class TargetInMigration : ITargetRule
    {
        public string Name => "target_in_migration";

        public bool Hard => true;

        public bool Rejects(PlanningContext context, DomainView domain, HostView target, double targetBusyAfter) =>
            context.HostsInFlight.Contains(target.Name);

        public string Reason(PlanningContext context, DomainView domain, HostView target, double targetBusyAfter) =>
            $"{target.Name} is in a migration";
    }

    /// <summary>A domain arrived on the target within policy.settleTime: its busy ratio (a 1m rate) does not show the
    /// new load yet, so it takes nothing until it does.</summary>
    public sealed class TargetSettling : ITargetRule
    {
        public string Name => "settling";

        public bool Hard => true;

        public bool Rejects(PlanningContext context, DomainView domain, HostView target, double targetBusyAfter) => target.Settling;

        public string Reason(PlanningContext context, DomainView domain, HostView target, double targetBusyAfter) =>
            $"{target.Name} is settling from a migration";
    }
}
