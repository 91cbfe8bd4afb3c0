using BenchmarkDotNet.Attributes;
using Loadshift.Rebalancer.Planning;

namespace Loadshift.Rebalancer.Benchmarks;

/// <summary>One planning step for a cluster of 200 hosts and 10,000 domains (target: median under 50 ms).
/// Host 0 is overloaded with 50 domains; a tenth of the domains are away from home; 3 migrations in flight.</summary>
[MemoryDiagnoser]
[MedianColumn]
public class PlannerBenchmarks
{
    private PlanningInput input = null!;

    [Params(200)]
    public int Hosts { get; set; }

    [Params(10_000)]
    public int Domains { get; set; }

    [GlobalSetup]
    public void Setup() => input = Cluster(Hosts, Domains);

    internal static PlanningInput Cluster(int hostCount, int domainCount)
    {
        var random = new Random(42);
        var now = new DateTimeOffset(2026, 11, 22, 3, 0, 0, TimeSpan.Zero);
        var hosts = Enumerable.Range(0, hostCount).Select(i => new HostView(
            $"hv{i}", CpuCapacity: 16 + (8 * (i % 3)), MemoryBytes: 256L << 30,
            BusyRatio: i == 0 ? 0.95 : 0.2 + (random.NextDouble() * 0.5),
            CalmWindowMaxBusy(i, random), MemoryAvailableBytes: 64L << 30,
            Maintenance: i % 50 == 7, Reachable: i % 70 != 9)).ToList();
        var domains = new List<DomainView>(domainCount);
        var history = new Dictionary<string, DomainHistory>(StringComparer.Ordinal);
        for (var d = 0; d < domainCount; d++)
        {
            var host = d < 50 ? 0 : d % hostCount;
            var home = d % 10 == 0 ? (host + 1) % hostCount : host;
            var name = $"vm{d}";
            domains.Add(new DomainView(name, $"hv{host}", random.NextDouble() * 0.05, (1 + (d % 8)) * (1L << 30), $"hv{home}", d % 97 == 0));
            if (d % 5 == 0)
            {
                var ended = now - TimeSpan.FromMinutes(random.Next(1, 600));
                history[name] = new DomainHistory(ended - TimeSpan.FromSeconds(5), ended, random.Next(0, 4));
            }
        }
        var inFlight = new List<MigrationInFlight>
        {
            new("vm51", "hv51", "hv52", now), new("vm52", "hv52", "hv53", now), new("vm53", "hv53", "hv54", now),
        };
        return new PlanningInput(hosts, domains, history, inFlight, new PlanningPolicy(MaxMigrationsInFlight: 8), now);
    }

    private static double CalmWindowMaxBusy(int host, Random random) => host % 2 == 0 ? 0.3 : 0.4 + (random.NextDouble() * 0.3);

    [Benchmark(Description = "relief for the overloaded host")]
    public Decision Relief() => Planner.PlanRelief(input, "hv0");

    [Benchmark(Description = "return home (1,000 domains away)")]
    public Decision ReturnHome() => Planner.PlanReturnHome(input);

    [Benchmark(Description = "drain a host")]
    public Decision Drain() => Planner.PlanDrain(input, "hv7");
}
