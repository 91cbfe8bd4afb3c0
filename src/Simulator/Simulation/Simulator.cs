using Loadshift.Simulator.Inputs;
using Loadshift.Simulator.Policies;

namespace Loadshift.Simulator.Simulation;

/// <summary>What one policy did over the trace.</summary>
/// <param name="OverloadTimeFraction">Share of host-time over the high watermark (busy = min(1, demand / capacity)).</param>
/// <param name="UnservedCoreSeconds">CPU demanded over the hosts' capacity, in core-seconds.</param>
/// <param name="MovesUndone">Moves reversed (the domain sent back where it came from) within an hour.</param>
/// <param name="HardRuleViolations">Moves of a pinned domain, to a host in maintenance, or overcommitting a target's memory.</param>
/// <param name="MovesNotHelped">Moves after which, policy.settleTime after their end, the target was over the high
/// watermark or an overloaded source still was (the planner's acceptance rule checked against what happened).</param>
public sealed record PolicyResult(
    string Policy,
    string Description,
    double OverloadTimeFraction,
    double UnservedCoreSeconds,
    int Migrations,
    long MigratedBytes,
    int MovesUndone,
    int HardRuleViolations,
    int MovesNotHelped,
    IReadOnlyList<Move> Moves,
    Series Series,
    IReadOnlyDictionary<string, int> NotHelpedBreakdown);

/// <summary>Per trace step: the busiest host's busy ratio (as Prometheus records it) and the migrations started.</summary>
public sealed class Series
{
    public List<double> Seconds { get; } = [];

    public List<double> BusiestBusyRatio { get; } = [];

    public List<int> Migrations { get; } = [];
}

/// <summary>Plays the trace through every policy in lockstep: the trace is read once, each step's demand is given
/// to every policy's copy of the cluster, which then runs the step's ticks (the policies in parallel).</summary>
public static class Simulator
{
    public static IReadOnlyList<PolicyResult> Run(Scenario scenario, IReadOnlyList<IPolicy> policies, IProgress<double>? progress = null)
    {
        var demand = new double[scenario.Domains.Count];
        var memory = scenario.InitialMemoryBytes.ToArray();
        var states = policies.Select(_ => new ClusterState(scenario, demand, memory)).ToArray();
        var series = policies.Select(_ => new Series()).ToArray();
        var tick = scenario.Tick.TotalSeconds;
        using var trace = scenario.OpenTrace();
        // One step ahead: a step lasts until the next one starts (the last as long as the one before).
        var nextDemand = new double[demand.Length];
        var nextMemory = memory.ToArray();
        if (!trace.ReadStep(nextDemand, nextMemory, out var nextSeconds))
        {
            throw new InputException("the trace has no steps");
        }
        var start = nextSeconds;
        long? stepLength = null;
        var more = true;
        while (more)
        {
            var seconds = nextSeconds;
            Array.Copy(nextDemand, demand, demand.Length);
            Array.Copy(nextMemory, memory, memory.Length);
            more = trace.ReadStep(nextDemand, nextMemory, out nextSeconds);
            var length = more ? nextSeconds - seconds : stepLength ?? (long)tick;
            stepLength = length;
            if (length < tick || length % tick != 0)
            {
                throw new InputException(
                    $"the trace's step ({length} s) is not a multiple of the evaluation interval ({tick} s): give --evaluation-interval {length}s, or a trace with longer steps");
            }
            var ticks = (int)(length / tick);
            Parallel.For(0, states.Length, p =>
            {
                var state = states[p];
                state.RecomputeHostDemand();
                var before = state.Moves.Count;
                for (var t = 0; t < ticks; t++)
                {
                    state.Observe(seconds - start + (t * tick));
                    if (t == 0)
                    {
                        series[p].Seconds.Add(seconds - start);
                        series[p].BusiestBusyRatio.Add(state.HasBusyRatio ? state.BusyRatio.Max() : 0);
                    }
                    policies[p].Act(state);
                    state.Run();
                }
                series[p].Migrations.Add(state.Moves.Count - before);
            });
            progress?.Report(trace.Progress);
        }
        return [.. policies.Select((policy, p) =>
        {
            var s = states[p];
            return new PolicyResult(policy.Name, policy.Description,
                s.HostTicks == 0 ? 0 : (double)s.OverloadedHostTicks / s.HostTicks,
                s.UnservedCoreSeconds, s.Moves.Count, s.Moves.Sum(m => m.Bytes), s.MovesUndone, s.HardRuleViolations,
                s.MovesNotHelped, s.Moves, series[p], s.NotHelpedBreakdown);
        })];
    }
}
