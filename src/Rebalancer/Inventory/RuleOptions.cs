namespace Loadshift.Rebalancer.Inventory;

/// <summary>The inventory's placement rules (the top-level <c>rules</c> key), bound as written and copied for the
/// planner by <see cref="Planning.PlacementRules.From"/>.</summary>
public sealed class RuleOptions
{
    /// <summary>Domains kept on different hosts: two web servers of one service, say.</summary>
    public List<DomainGroupOptions> AntiAffinity { get; init; } = [];

    /// <summary>Domains kept together where possible (always soft): the host holding the other members is preferred.</summary>
    public List<DomainGroupOptions> Affinity { get; init; } = [];

    /// <summary>Where one domain may run.</summary>
    public List<DomainHostOptions> DomainHost { get; init; } = [];
}

public sealed class DomainGroupOptions
{
    /// <summary>Names the group in decisions and rejections.</summary>
    public string Name { get; set; } = "";

    public List<string> Domains { get; init; } = [];

    /// <summary>Anti-affinity only. Hard (the default): no move puts two members on one host. Soft: broken only when
    /// nothing else relieves an overloaded host, and a move that breaks it costs a penalty.</summary>
    public bool Hard { get; set; } = true;
}

public sealed class DomainHostOptions
{
    public string Domain { get; set; } = "";

    /// <summary>Hard: the domain is moved only to one of these hosts.</summary>
    public List<string> Must { get; init; } = [];

    /// <summary>Soft: one of these hosts is preferred; another costs a penalty.</summary>
    public List<string> Should { get; init; } = [];

    /// <summary>Hard: the domain is never moved to these hosts.</summary>
    public List<string> Never { get; init; } = [];
}
