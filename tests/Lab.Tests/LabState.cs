using System.Text.Json;
using System.Text.Json.Serialization;

namespace Loadshift.Lab.Tests;

/// <summary>lab/.state/lab.json as lab/up writes it.</summary>
internal sealed record LabState(
    IReadOnlyList<LabHost> Hosts,
    IReadOnlyList<LabVm> Vms,
    string RootAddress,
    string Bridge,
    string ClientNetns,
    string SharedDir,
    string StorageUrl)
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNameCaseInsensitive = true };

    public static string RepoRoot { get; } = FindRepoRoot();

    public static string StateFile => Path.Combine(RepoRoot, "lab", ".state", "lab.json");

    /// <summary>The running lab; fails the calling test, never skips it, when the lab is not up.</summary>
    public static LabState Require()
    {
        if (!File.Exists(StateFile))
        {
            throw new InvalidOperationException(
                $"{StateFile} is missing: the lab is not up. Run lab/up (as root) before the Lab tests, lab/down after.");
        }
        return JsonSerializer.Deserialize<LabState>(File.ReadAllText(StateFile), Json)
            ?? throw new InvalidOperationException($"{StateFile} is empty");
    }

    public LabHost Host(string name) => Hosts.Single(h => h.Name == name);

    /// <summary>The one host <paramref name="vm"/> runs on; fails the calling test when it runs on none or several.</summary>
    public async Task<LabHost> RunningOn(LabVm vm)
    {
        var hosts = new List<LabHost>();
        foreach (var host in Hosts)
        {
            var state = await Run.Virsh(host, "domstate", vm.Name);
            if (state.ExitCode == 0 && state.Stdout.Trim() == "running")
            {
                hosts.Add(host);
            }
        }
        Assert.True(hosts.Count == 1, $"{vm.Name} runs on {hosts.Count} hosts ({string.Join(", ", hosts.Select(h => h.Name))}), expected exactly one");
        return hosts[0];
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Stack.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"no Stack.sln above {AppContext.BaseDirectory}");
    }
}

internal sealed record LabHost(
    string Name,
    string Address,
    string LibvirtUri,
    string ExporterUrl,
    string Netns,
    double CpuQuota,
    long MemoryBytes);

internal sealed record LabVm(
    string Name,
    string HomeHost,
    string Address,
    string Url,
    string CgiUrl,
    string Mac,
    LabDisk Disk);

/// <summary>A VM's data disk: an NBD export of the lab's storage server, backed by a raw file.</summary>
internal sealed record LabDisk(string Device, string Export, string Path, long SizeBytes);

/// <summary>The Lab tests share one lab: they run one at a time (a migration would skew a CPU measurement).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SharedLab
{
    public const string Name = "Lab";
}

/// <summary>lab/load --json, the parts the tests read.</summary>
internal sealed record LoadReport(IReadOnlyList<LoadTarget> Targets);

internal sealed record LoadTarget(
    string Vm,
    int Sent,
    int Succeeded,
    int Failed,
    int Slow,
    double ThroughputPerSecond,
    LoadLatency LatencyMs);

internal sealed record LoadLatency(double? P50, double? P95, double? P99, double? Max);

/// <summary>lab/migrate --json.</summary>
internal sealed record MigrationReport(
    string Vm,
    string From,
    string To,
    bool Migrated,
    double MigrationSeconds,
    LoadTarget Probes);

internal static class LabJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNameCaseInsensitive = true,
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
    };

    public static T Parse<T>(string json) =>
        JsonSerializer.Deserialize<T>(json, Options) ?? throw new InvalidOperationException($"empty JSON: {json}");
}
