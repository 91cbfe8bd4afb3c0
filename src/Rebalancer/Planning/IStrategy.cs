namespace Loadshift.Rebalancer.Planning;

/// <summary>One kind of decision (relief, drain, return home): which domain to move and where, on one step's input.
/// The gates every strategy shares are in <see cref="Gates"/>, the constraints in <see cref="IDomainRule"/> and
/// <see cref="ITargetRule"/>; a strategy only chooses.</summary>
internal interface IStrategy
{
    DecisionKind Kind { get; }

    /// <param name="host">The host the decision is about (the overloaded or drained one); null for return home.</param>
    Decision Plan(PlanningContext context, string? host);
}

/// <summary>Keeps a domain where it is: returns the reason, or null when the domain may move.</summary>
internal interface IDomainRule
{
    string? Blocks(PlanningContext context, DomainView domain);
}

/// <summary>Keeps a domain off a target. A hard rule rejects the target; a soft one costs a penalty in the choice.
/// <see cref="Rejects"/> answers without text, as it is asked for every target of every candidate (a relief over 50
/// domains on 200 hosts asks 10,000 times); <see cref="Reason"/> is asked only for a rejection the decision keeps.</summary>
internal interface ITargetRule
{
    /// <summary>snake_case, carried by each <see cref="Rejection"/>.</summary>
    string Name { get; }

    bool Hard { get; }

    /// <param name="targetBusyAfter">The prediction for this domain on this target (<see cref="PlanningContext.BusyAfter"/>).</param>
    bool Rejects(PlanningContext context, DomainView domain, HostView target, double targetBusyAfter);

    /// <summary>Why <see cref="Rejects"/> said yes, e.g. "hv2 would reach 0.85, not under 0.80".</summary>
    string Reason(PlanningContext context, DomainView domain, HostView target, double targetBusyAfter);
}
