using CsCheck;
using Loadshift.Rebalancer.Planning;

namespace Loadshift.Rebalancer.Tests.Planning;

/// <summary>Properties over random clusters, loads and rules (CsCheck generates and shrinks them): whatever the planner
/// decides, a move breaks no hard rule, takes no host to the high watermark (a return home: its home to the low one), fits in memory, and its numbers are what
/// the prediction gives when recomputed here from the input.</summary>
public sealed class PlannerProperties
{
    private const long Gib = 1L << 30;

    /// <summary>A cluster of 2 to 5 hosts and up to 12 domains with random loads, some hosts in maintenance, some domains
    /// away from home, and random anti-affinity groups (hard or soft), affinity groups and domain-host rules. Rules may
    /// name domains that do not run (the inventory allows it).</summary>
    private static readonly Gen<PlanningInput> Inputs =
        Gen.Int[2, 5].SelectMany(hostCount => Gen.Select(
            Gen.Select(Gen.Double[0, 1], Gen.Int[1, 8], Gen.Int[0, 5], Gen.Double[0, 1]).Array[hostCount],
            Gen.Select(Gen.Int[0, hostCount - 1], Gen.Double[0, 0.6], Gen.Int[0, hostCount - 1], Gen.Int[1, 4], Gen.Int[0, 9]).Array[0, 12],
            Gen.Select(Gen.Int[0, 13].Array[2, 4], Gen.Bool).Array[0, 3],
            Gen.Int[0, 13].Array[2, 3].Array[0, 2],
            Gen.Select(Gen.Int[0, 13], Gen.Int[0, hostCount - 1].Array[0, 2], Gen.Int[0, hostCount - 1].Array[0, 2], Gen.Int[0, hostCount - 1].Array[0, 2]).Array[0, 4],
            (hosts, domains, anti, affinity, domainHost) =>
            {
                var hostViews = hosts.Select((h, i) => new HostView($"hv{i}", h.Item2, 16 * Gib, h.Item1,
                    CalmWindowMaxBusyRatio: Math.Max(h.Item1, h.Item4 * 0.6), null, Maintenance: h.Item3 == 0, Reachable: true)).ToList();
                var domainViews = domains.Select((d, i) => new DomainView($"d{i}", $"hv{d.Item1}", d.Item2, d.Item4 * Gib,
                    $"hv{d.Item3}", Pinned: d.Item5 == 0)).ToList();
                var rules = new PlacementRules(
                    anti.Select((g, i) => new DomainGroup($"anti{i}", g.Item1.Select(d => $"d{d}").ToList(), g.Item2)).ToList(),
                    affinity.Select((g, i) => new DomainGroup($"aff{i}", g.Select(d => $"d{d}").ToList(), Hard: false)).ToList(),
                    domainHost.DistinctBy(r => r.Item1).Select(r => new DomainHostRule($"d{r.Item1}",
                        r.Item2.Select(h => $"hv{h}").ToList(), r.Item3.Select(h => $"hv{h}").ToList(), r.Item4.Select(h => $"hv{h}").ToList())).ToList());
                return new PlanningInput(hostViews, domainViews, new Dictionary<string, DomainHistory>(), [], new PlanningPolicy(), Fixture.Now, rules);
            }));

    [Fact]
    public void Relief_drain_and_return_home_break_no_hard_rule_and_predict_as_recomputed()
    {
        var moves = new Dictionary<DecisionKind, int>();
        Inputs.Sample(input =>
        {
            foreach (var decision in Decisions(input))
            {
                if (decision.Migration is { } move)
                {
                    lock (moves)
                    {
                        moves[decision.Kind] = moves.GetValueOrDefault(decision.Kind) + 1;
                    }
                    Check(input, decision.Kind, move);
                }
            }
        }, iter: 3000);

        // The generator must reach moves of every kind, or the property says nothing.
        foreach (var kind in Enum.GetValues<DecisionKind>())
        {
            Assert.True(moves.GetValueOrDefault(kind) > 50, $"only {moves.GetValueOrDefault(kind)} moves of kind {kind} in 3000 clusters");
        }
    }

    /// <summary>The same clusters where each domain last moved 0-40 minutes ago, 0-4 times within the back-off window.</summary>
    private static readonly Gen<PlanningInput> WithHistory = Inputs.SelectMany(input =>
        Gen.Select(Gen.Int[0, 40], Gen.Int[0, 4]).Array[input.Domains.Count].Select(moves => input with
        {
            History = input.Domains.Zip(moves).Where(p => p.Second.Item2 > 0).ToDictionary(
                p => p.First.Name,
                p => new DomainHistory(Fixture.Now.AddMinutes(-p.Second.Item1 - 1), Fixture.Now.AddMinutes(-p.Second.Item1), p.Second.Item2),
                StringComparer.Ordinal),
        }));

    /// <summary>No flapping: relief never moves a domain within its cooldown (5 minutes after its last migration ended,
    /// doubled for each further move in the back-off window, at most an hour), so no relief undoes a recent move.
    /// A return home after the calm window is the exception the issue allows; a drain is an operator's order.</summary>
    [Fact]
    public void Relief_moves_no_domain_within_its_cooldown()
    {
        var reliefs = 0;
        WithHistory.Sample(input =>
        {
            foreach (var decision in Decisions(input).Where(d => d.Kind == DecisionKind.Relief))
            {
                if (decision.Migration is not { } move || input.History.GetValueOrDefault(move.Domain) is not { } history)
                {
                    continue;
                }
                reliefs++;
                var minutes = Math.Min(60, 5 * Math.Pow(2, history.RecentMigrations - 1));
                var calmFor = input.Now - history.LastMigrationEndedAt!.Value;
                Assert.True(calmFor >= TimeSpan.FromMinutes(minutes),
                    $"{move.Domain} moved {calmFor.TotalMinutes} min after its last migration; cooldown {minutes} min after {history.RecentMigrations} move(s)");
            }
        }, iter: 3000);

        Assert.True(reliefs > 100, $"only {reliefs} reliefs of a domain with a history");
    }

    /// <summary>The same clusters where each domain made 0-3 moves, each starting 0-90 minutes ago and lasting 1-3 minutes, the
    /// last one to where it runs now; its history (last move, moves in the back-off window) agrees with them.</summary>
    private static readonly Gen<PlanningInput> WithMoves = Inputs.SelectMany(input =>
        Gen.Select(Gen.Int[0, input.Hosts.Count - 1], Gen.Int[0, 90], Gen.Int[1, 3]).Array[0, 3].Array[input.Domains.Count].Select(all =>
        {
            var moves = new List<RecentMove>();
            foreach (var (domain, hops) in input.Domains.Zip(all))
            {
                // Oldest first: the hosts it went through end where it runs.
                var ordered = hops.OrderByDescending(h => h.Item2).ToList();
                for (var i = 0; i < ordered.Count; i++)
                {
                    var from = $"hv{ordered[i].Item1}";
                    var to = i + 1 < ordered.Count ? $"hv{ordered[i + 1].Item1}" : domain.Host;
                    if (from != to)
                    {
                        var started = Fixture.Now.AddMinutes(-ordered[i].Item2 - ordered[i].Item3);
                        moves.Add(new RecentMove(domain.Name, from, to, started, started.AddMinutes(ordered[i].Item3)));
                    }
                }
            }
            moves.Sort((a, b) => a.StartedAt.CompareTo(b.StartedAt));
            var history = moves.GroupBy(m => m.Domain).ToDictionary(
                g => g.Key, g => new DomainHistory(g.Max(m => m.StartedAt), g.Max(m => m.EndedAt), g.Count()), StringComparer.Ordinal);
            return input with { History = history, RecentMoves = moves };
        }));

    /// <summary>No flapping as a guarantee, over random clusters, loads, rules and move histories: no relief or return home
    /// moves a domain that moved policy.maxMovesPerDomain times (3) within policy.maxMovesWindow (1 h); no relief sends a
    /// domain back where a move within its cooldown (recomputed here: 5 min × 2^(moves − 1), at most 1 h) brought it from;
    /// and every move still breaks no hard rule, passes no watermark and predicts as recomputed.</summary>
    [Fact]
    public void No_move_exceeds_the_per_domain_limit_or_undoes_a_recent_move()
    {
        var (moves, ofMovedDomains) = (0, 0);
        WithMoves.Sample(input =>
        {
            foreach (var decision in Decisions(input))
            {
                if (decision.Migration is not { } move)
                {
                    continue;
                }
                moves++;
                Check(input, decision.Kind, move);
                var before = input.RecentMoves!.Where(m => m.Domain == move.Domain).ToList();
                if (before.Count == 0 || decision.Kind == DecisionKind.Drain)
                {
                    continue;
                }
                ofMovedDomains++;
                var inWindow = before.Count(m => m.StartedAt >= input.Now.AddHours(-1));
                Assert.True(inWindow < 3, $"{decision.Kind} moves {move.Domain} after {inWindow} moves within the hour");
                if (decision.Kind == DecisionKind.Relief)
                {
                    var cooldown = TimeSpan.FromMinutes(Math.Min(60, 5 * Math.Pow(2, input.History[move.Domain].RecentMigrations - 1)));
                    var undone = before.Where(m => m.Source == move.Target && m.Target == move.Source && m.EndedAt + cooldown > input.Now);
                    Assert.True(!undone.Any(), $"{move.Domain} {move.Source} -> {move.Target} undoes {string.Join(", ", undone)} within {cooldown}");
                }
            }
        }, iter: 3000);

        Assert.True(moves > 500, $"only {moves} moves in 3000 clusters");
        Assert.True(ofMovedDomains > 100, $"only {ofMovedDomains} moves of domains that moved before");
    }

    /// <summary>Relief and memory relief skip a domain too light to gain policy.minGain without weighing its targets:
    /// sound only if no target the rules let in gives a move a larger gain than what it takes off its source.</summary>
    [Fact]
    public void A_move_gains_at_most_what_it_takes_off_its_source()
    {
        var weighed = new int[2];
        Inputs.Sample(input =>
        {
            var context = new PlanningContext(input);
            foreach (var source in input.Hosts)
            {
                var busy = source.BusyRatio ?? 0;
                var share = context.MemoryShare(source) ?? 0;
                foreach (var domain in context.DomainsOn(source.Name))
                {
                    foreach (var target in input.Hosts.Where(t => t.Name != source.Name))
                    {
                        if (context.Weigh(Planner.ReliefTargetRules, domain, source, target).RejectedBy is not null)
                        {
                            continue;
                        }
                        if (busy > input.Policy.HighWatermark)
                        {
                            var gain = PlanningContext.PlanMove(domain, source, target, input.Policy).Gain;
                            Assert.True(gain <= busy - Math.Max(0, busy - domain.CpuShare), $"{domain.Name} to {target.Name} gains {gain} of CPU, more than it takes off {source.Name}");
                            Interlocked.Increment(ref weighed[0]);
                        }
                        if (share > input.Policy.MemoryHighWatermark)
                        {
                            // As MemoryReliefStrategy weighs it: how much the higher memory share of the two hosts falls.
                            var sourceAfter = context.MemoryShareWith(source, domain, -1) ?? share;
                            var gain = Math.Max(share, context.MemoryShare(target) ?? 0) - Math.Max(sourceAfter, context.MemoryShareWith(target, domain) ?? 0);
                            Assert.True(gain <= share - sourceAfter, $"{domain.Name} to {target.Name} frees {gain} of memory, more than its share of {source.Name}");
                            Interlocked.Increment(ref weighed[1]);
                        }
                    }
                }
            }
        }, iter: 3000);

        Assert.True(weighed[0] > 1000 && weighed[1] > 200, $"only {weighed[0]} relief and {weighed[1]} memory relief moves weighed in 3000 clusters");
    }

    [Fact]
    public void Every_rejection_names_a_rule_and_a_target_that_is_not_the_move()
    {
        Inputs.Sample(input =>
        {
            foreach (var decision in Decisions(input))
            {
                foreach (var rejection in decision.Rejected ?? [])
                {
                    Assert.False(string.IsNullOrEmpty(rejection.Rule));
                    Assert.False(string.IsNullOrEmpty(rejection.Reason));
                    Assert.False(decision.Migration is { } m && m.Domain == rejection.Domain && m.Target == rejection.Target,
                        $"{rejection} is the move itself");
                }
            }
        }, iter: 1000);
    }

    private static IEnumerable<Decision> Decisions(PlanningInput input)
    {
        foreach (var host in input.Hosts)
        {
            yield return host.Maintenance ? Planner.PlanDrain(input, host.Name) : Planner.PlanRelief(input, host.Name);
            if (!host.Maintenance)
            {
                yield return Planner.PlanMemoryRelief(input, host.Name);
            }
        }
        yield return Planner.PlanRuleRepair(input);
        yield return Planner.PlanReturnHome(input);
    }

    /// <summary>The move checked against the input alone, without the planner's code.</summary>
    private static void Check(PlanningInput input, DecisionKind kind, MigrationPlan move)
    {
        var domain = input.Domains.Single(d => d.Name == move.Domain);
        var source = input.Hosts.Single(h => h.Name == move.Source);
        var target = input.Hosts.Single(h => h.Name == move.Target);
        var rules = input.Rules!;

        Assert.Equal(domain.Host, source.Name);
        Assert.NotEqual(source.Name, target.Name);
        Assert.False(domain.Pinned, $"{domain.Name} is pinned");
        Assert.False(target.Maintenance, $"{target.Name} is in maintenance");
        foreach (var group in rules.AntiAffinity.Where(g => g.Hard && g.Domains.Contains(domain.Name)))
        {
            var together = input.Domains.Where(d => d.Name != domain.Name && d.Host == target.Name && group.Domains.Contains(d.Name)).Select(d => d.Name);
            Assert.True(!together.Any(), $"{domain.Name} to {target.Name} joins {string.Join(", ", together)} of hard group {group.Name}");
        }
        foreach (var rule in rules.DomainHost.Where(r => r.Domain == domain.Name))
        {
            Assert.True(rule.Must.Count == 0 || rule.Must.Contains(target.Name), $"{domain.Name} must run on {string.Join(", ", rule.Must)}, not {target.Name}");
            Assert.DoesNotContain(target.Name, rule.Never);
        }

        var targetAfter = target.BusyRatio!.Value + (domain.CpuShare * source.CpuCapacity / target.CpuCapacity);
        Assert.True(targetAfter < input.Policy.HighWatermark, $"{target.Name} would reach {targetAfter}");
        if (kind == DecisionKind.ReturnHome)
        {
            Assert.Equal(domain.HomeHost, target.Name);
            Assert.True(targetAfter < input.Policy.LowWatermark, $"home {target.Name} would reach {targetAfter}, not under the low watermark");
        }
        Assert.Equal(targetAfter, move.TargetBusyAfter, 9);
        Assert.Equal(target.BusyRatio.Value, move.TargetBusyBefore, 9);
        Assert.Equal(source.BusyRatio!.Value, move.SourceBusyBefore, 9);
        Assert.Equal(Math.Max(0, source.BusyRatio.Value - domain.CpuShare), move.SourceBusyAfter, 9);
        Assert.Equal(domain.CpuShare, move.DomainShare, 9);
        var committed = input.Domains.Where(d => d.Host == target.Name).Sum(d => d.MemoryBytes);
        if (kind == DecisionKind.MemoryRelief)
        {
            var sourceShare = (double)input.Domains.Where(d => d.Host == source.Name).Sum(d => d.MemoryBytes) / source.MemoryBytes;
            var targetShare = (double)committed / target.MemoryBytes;
            var gain = Math.Max(sourceShare, targetShare)
                - Math.Max(sourceShare - ((double)domain.MemoryBytes / source.MemoryBytes), targetShare + ((double)domain.MemoryBytes / target.MemoryBytes));
            Assert.True(sourceShare > input.Policy.MemoryHighWatermark, $"memory relief of {source.Name} at {sourceShare}");
            Assert.Equal(gain, move.Gain, 9);
            Assert.True(move.Gain >= input.Policy.MinGain, $"memory relief gains {move.Gain}, under {input.Policy.MinGain}");
        }
        else
        {
            Assert.Equal(Math.Max(source.BusyRatio.Value, target.BusyRatio.Value) - Math.Max(move.SourceBusyAfter, targetAfter), move.Gain, 9);
        }
        if (kind == DecisionKind.Relief)
        {
            Assert.True(move.Gain >= input.Policy.MinGain, $"relief gains {move.Gain}, under {input.Policy.MinGain}");
        }
        Assert.Equal(domain.MemoryBytes, move.CostBytes);
        Assert.Equal(domain.MemoryBytes / 1e9, move.CostSeconds, 9);
        Assert.True(committed + domain.MemoryBytes <= target.MemoryBytes, $"{domain.Name} does not fit on {target.Name}");
        Assert.True((double)(committed + domain.MemoryBytes) / target.MemoryBytes < input.Policy.MemoryHighWatermark,
            $"{target.Name}'s memory would reach {(double)(committed + domain.MemoryBytes) / target.MemoryBytes}");
    }
}
