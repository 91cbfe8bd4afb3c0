namespace Loadshift.Rebalancer.Planning;

/// <summary>The gates every strategy shares, in one place: the in-flight limit, a host already in a migration,
/// a domain's cooldown, a host settling from a migration. The decision window (one decision per host per
/// policy.decisionWindow) needs the journal's last decision and is kept by RebalanceWorker.</summary>
internal static class Gates
{
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
        var moves = Math.Max(1, history.RecentMigrations);
        var seconds = policy.CooldownOrDefault.TotalSeconds * Math.Pow(policy.CooldownBackoff, moves - 1);
        var cooldown = TimeSpan.FromSeconds(Math.Min(seconds, policy.MaxCooldownOrDefault.TotalSeconds) * history.CooldownFactor);
        return ended + cooldown;
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
