using Loadshift.Rebalancer.Planning;

namespace Loadshift.Rebalancer.Inventory;

/// <summary>What the Rebalancer may do without an operator (vSphere DRS's automation levels): <c>full</c> moves as it
/// decides; <c>partial</c> relieves and drains, and recommends the rest (return home, rule repair) for approval;
/// <c>manual</c> only recommends. A recommendation waits for <c>loadshift approve ID</c> until
/// policy.recommendationExpiry.</summary>
public static class Automation
{
    public const string Full = "full";
    public const string Partial = "partial";
    public const string Manual = "manual";

    public static IReadOnlyList<string> Levels { get; } = [Full, Partial, Manual];

    /// <summary>The level for a domain: its entry in policy.domainAutomation, else policy.automation.</summary>
    public static string LevelOf(PolicyOptions policy, string domain) =>
        policy.DomainAutomation.TryGetValue(domain, out var level) ? level : policy.Automation;

    /// <summary>Whether a move of this kind acts at once at this level (else it waits for approval). Under
    /// <c>partial</c> only what relieves a host or empties one acts: relief (CPU or memory), and drain, which an
    /// operator asked for; return home and rule repair wait.</summary>
    public static bool Acts(string level, DecisionKind kind) => level switch
    {
        Full => true,
        Partial => kind is DecisionKind.Relief or DecisionKind.MemoryRelief or DecisionKind.Drain,
        _ => false,
    };
}
