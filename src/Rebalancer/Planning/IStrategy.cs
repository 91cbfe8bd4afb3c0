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

/// <summary>Keeps a domain off a target: returns the reason, or null when the target is allowed. A hard rule rejects
/// the target; a soft one costs a penalty in the choice.</summary>
internal interface ITargetRule
{
    /// <summary>snake_case, carried by each <see cref="Rejection"/>.</summary>
    string Name { get; }

    bool Hard { get; }

    /// <param name="move">The prediction for this domain on this target.</param>
    string? Blocks(PlanningContext context, DomainView domain, HostView target, MigrationPlan move);
}
