using System.Text.Json;

namespace Loadshift.Lab.Demo;

/// <summary>lab/.state/lab.json as lab/up writes it (docs/lab.md).</summary>
internal sealed record LabState(IReadOnlyList<LabHost> Hosts, IReadOnlyList<LabVm> Vms, string ClientNetns)
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNameCaseInsensitive = true };

    public static LabState Read(string path) =>
        JsonSerializer.Deserialize<LabState>(File.ReadAllText(path), Json)
        ?? throw new InvalidDataException($"{path} is empty");

    public LabHost Host(string name) => Hosts.Single(h => h.Name == name);
}

internal sealed record LabHost(string Name, string Address, string LibvirtUri, double CpuQuota);

internal sealed record LabVm(string Name, string HomeHost, string Address, string Url, string CgiUrl);
