using System.Globalization;
using System.Text;
using Loadshift.Rebalancer.Inventory;
using Loadshift.Simulator.Inputs;

namespace Loadshift.Simulator.Synthetic;

/// <summary>The two shapes of load the generator makes. Diurnal: office hours dominate, bursts are rare.
/// Bursty: a flat day with frequent bursts and more noisy domains.</summary>
public enum Shape
{
    Diurnal,
    Bursty,
}

/// <summary>What to generate; every draw comes from one <see cref="Random"/> seeded with <see cref="Seed"/>, in a
/// fixed order, so the same parameters give the same files.</summary>
public sealed record GeneratorOptions(
    int Seed = 1,
    int Hosts = 20,
    int Domains = 600,
    double Days = 7,
    int StepSeconds = 60,
    Shape Shape = Shape.Diurnal,
    double Load = 0.5);

/// <summary>A synthetic cluster: hosts of different sizes, domains placed at random in proportion to host size
/// (so some hosts start fuller than others), and a trace of each domain's CPU demand with diurnal load, bursts,
/// noisy domains and slow drift.</summary>
public sealed class Generator
{
    private static readonly int[] HostCores = [16, 32, 48, 64];
    private static readonly int[] DomainCpus = [1, 2, 2, 4, 4, 8];
    private static readonly long[] DomainMemoryGiB = [2, 4, 4, 8, 8, 16];
    private const long GiB = 1L << 30;

    public Generator(GeneratorOptions options)
    {
        Options = options;
        var random = new Random(options.Seed);
        Hosts = [.. Enumerable.Range(0, options.Hosts).Select(i =>
        {
            var cores = HostCores[random.Next(HostCores.Length)];
            return new InventoryHost { Name = $"hv{i + 1:D3}", CpuCapacity = cores, MemoryBytes = cores * 12 * GiB };
        })];
        var totalCapacity = Hosts.Sum(h => h.CpuCapacity);
        var profiles = new DomainProfile[options.Domains];
        for (var d = 0; d < options.Domains; d++)
        {
            var kind = random.Next(DomainCpus.Length);
            var noisy = random.NextDouble() < (options.Shape == Shape.Bursty ? 0.2 : 0.05);
            profiles[d] = new DomainProfile(
                Cpus: DomainCpus[kind],
                MemoryBytes: DomainMemoryGiB[kind] * GiB,
                Base: Math.Exp(Normal(random) * 0.6),
                DayAmplitude: options.Shape == Shape.Diurnal ? 0.6 + (random.NextDouble() * 0.8) : 0.1 + (random.NextDouble() * 0.2),
                DayPhaseHours: (random.NextDouble() * 4) - 2,
                Drift: (random.NextDouble() * 0.8) - 0.3,
                Noise: noisy ? 0.5 : 0.05,
                BurstsPerDay: options.Shape == Shape.Bursty ? 4 : 0.5);
        }
        // Scale so that the mean demand is the asked share of the cluster's capacity.
        var mean = profiles.Sum(p => p.Base * p.Cpus * MeanDayFactor(p));
        Scale = options.Load * totalCapacity / mean;
        Profiles = profiles;
        Placement = Place(random);
        traceSeed = random.Next();
    }

    private readonly int traceSeed;

    public GeneratorOptions Options { get; }

    public IReadOnlyList<InventoryHost> Hosts { get; }

    internal IReadOnlyList<DomainProfile> Profiles { get; }

    internal double Scale { get; }

    public Placement Placement { get; }

    public PolicyOptions Policy { get; } = new();

    public ITrace OpenTrace() => new SyntheticTrace(this, traceSeed);

    public static string DomainName(int d) => $"vm{d + 1:D5}";

    private Placement Place(Random random)
    {
        var memory = new long[Hosts.Count];
        var domains = new List<string>();
        var hosts = new List<string>();
        var bytes = new List<long>();
        var total = Hosts.Sum(h => h.CpuCapacity);
        for (var d = 0; d < Profiles.Count; d++)
        {
            var need = Profiles[d].MemoryBytes;
            var host = -1;
            for (var attempt = 0; attempt < 20 && host < 0; attempt++)
            {
                var pick = random.NextDouble() * total;
                var h = 0;
                while (h < Hosts.Count - 1 && pick >= Hosts[h].CpuCapacity)
                {
                    pick -= Hosts[h].CpuCapacity;
                    h++;
                }
                if (memory[h] + need <= Hosts[h].MemoryBytes)
                {
                    host = h;
                }
            }
            if (host < 0)
            {
                host = Enumerable.Range(0, Hosts.Count).MaxBy(h => Hosts[h].MemoryBytes - memory[h]);
            }
            memory[host] += need;
            domains.Add(DomainName(d));
            hosts.Add(Hosts[host].Name);
            bytes.Add(need);
        }
        return new Placement(domains, hosts, bytes);
    }

    private static double MeanDayFactor(DomainProfile p) => 1 + (p.DayAmplitude * 0.25);

    internal static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>Writes inventory.yaml, placement.csv and trace.csv into <paramref name="directory"/>.</summary>
    public void Write(string directory, IProgress<double>? progress = null)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "inventory.yaml"), InventoryYaml());
        var placement = new StringBuilder("domain,host,memory_bytes\n");
        for (var d = 0; d < Placement.Domains.Count; d++)
        {
            placement.Append(CultureInfo.InvariantCulture, $"{Placement.Domains[d]},{Placement.Hosts[d]},{Placement.MemoryBytes[d]}\n");
        }
        File.WriteAllText(Path.Combine(directory, "placement.csv"), placement.ToString());
        using var writer = new StreamWriter(Path.Combine(directory, "trace.csv"), false, new UTF8Encoding(false), 1 << 20);
        writer.Write("seconds,domain,cpu_cores\n");
        using var trace = OpenTrace();
        var cpu = new double[Profiles.Count];
        var memory = Placement.MemoryBytes.ToArray();
        while (trace.ReadStep(cpu, memory, out var seconds))
        {
            var prefix = seconds.ToString(CultureInfo.InvariantCulture);
            for (var d = 0; d < cpu.Length; d++)
            {
                writer.Write(prefix);
                writer.Write(',');
                writer.Write(Placement.Domains[d]);
                writer.Write(',');
                writer.Write(cpu[d].ToString("0.####", CultureInfo.InvariantCulture));
                writer.Write('\n');
            }
            progress?.Report(trace.Progress);
        }
    }

    public string InventoryYaml()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"# Generated by loadshift-sim generate --seed {Options.Seed} --hosts {Options.Hosts} --domains {Options.Domains} --days {Options.Days} --step {Options.StepSeconds} --shape {Options.Shape.ToString().ToLowerInvariant()} --load {Options.Load}\n");
        text.Append("# The Rebalancer's inventory format; libvirtUri left out (simulation only). Policy: the Rebalancer's defaults.\n");
        text.Append(CultureInfo.InvariantCulture, $"""
            policy:
              highWatermark: {Policy.HighWatermark}
              lowWatermark: {Policy.LowWatermark}
              returnHomeAfter: {DurationConverter.Format(Policy.ReturnHomeAfter)}
              cooldown: {DurationConverter.Format(Policy.Cooldown)}
              settleTime: {DurationConverter.Format(Policy.SettleTime)}
              decisionWindow: {DurationConverter.Format(Policy.DecisionWindow)}
              maxMigrationsInFlight: {Policy.MaxMigrationsInFlight}

            hosts:

            """);
        foreach (var host in Hosts)
        {
            text.Append(CultureInfo.InvariantCulture, $"  - name: {host.Name}\n    cpuCapacity: {host.CpuCapacity}\n    memoryBytes: {host.MemoryBytes}\n");
        }
        return text.ToString();
    }
}

/// <param name="Base">The domain's typical demand as a share of its vCPUs, before scaling.</param>
/// <param name="DayAmplitude">How much office hours add (0.6-1.4 diurnal, 0.1-0.3 bursty).</param>
/// <param name="Drift">Change of the base over the trace (-30% to +50%).</param>
/// <param name="Noise">Relative noise per step (0.5 for noisy domains).</param>
internal sealed record DomainProfile(int Cpus, long MemoryBytes, double Base, double DayAmplitude, double DayPhaseHours, double Drift,
    double Noise, double BurstsPerDay);

/// <summary>The generator's trace, made step by step (nothing held but each domain's burst state).</summary>
internal sealed class SyntheticTrace(Generator generator, int seed) : ITrace
{
    private readonly Random random = new(seed);
    private readonly int[] burstLeft = new int[generator.Profiles.Count];
    private readonly double[] burstFactor = new double[generator.Profiles.Count];
    private readonly long steps = (long)(generator.Options.Days * 86400 / generator.Options.StepSeconds);
    private long step;

    public double Progress => steps == 0 ? 1 : (double)step / steps;

    public bool ReadStep(double[] cpuCores, long[] memoryBytes, out long seconds)
    {
        seconds = step * generator.Options.StepSeconds;
        if (step >= steps)
        {
            return false;
        }
        var stepSeconds = generator.Options.StepSeconds;
        var hours = seconds / 3600.0;
        var progress = Progress;
        for (var d = 0; d < cpuCores.Length; d++)
        {
            var p = generator.Profiles[d];
            // Office hours: a half sine from 08:00 to 20:00 local, weekdays; nights and weekends at the base.
            var local = hours + p.DayPhaseHours;
            var hourOfDay = ((local % 24) + 24) % 24;
            var weekday = ((int)Math.Floor(local / 24) % 7 + 7) % 7 < 5;
            var day = weekday && hourOfDay is > 8 and < 20 ? Math.Sin(Math.PI * (hourOfDay - 8) / 12) : 0;
            var level = p.Base * (1 + (p.DayAmplitude * day)) * (1 + (p.Drift * progress));
            if (burstLeft[d] > 0)
            {
                burstLeft[d]--;
            }
            else if (random.NextDouble() < p.BurstsPerDay * stepSeconds / 86400)
            {
                burstLeft[d] = 1 + random.Next(Math.Max(1, 1800 / stepSeconds));
                burstFactor[d] = 2 + (random.NextDouble() * 2);
            }
            if (burstLeft[d] > 0)
            {
                level *= burstFactor[d];
            }
            level *= Math.Max(0, 1 + (p.Noise * Generator.Normal(random)));
            cpuCores[d] = Math.Min(p.Cpus, level * generator.Scale * p.Cpus);
        }
        step++;
        return true;
    }

    public void Dispose()
    {
    }
}
