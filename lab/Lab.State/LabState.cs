using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Loadshift.Lab;

/// <summary>lab/.state/lab.json as lab/up writes it (write_state in lab/up): the hosts, the VMs and the lab's own
/// addresses. Every field is required: a file that lacks one was not written by this lab/up.</summary>
public sealed record LabState(
    IReadOnlyList<LabHost> Hosts,
    IReadOnlyList<LabVm> Vms,
    string RootAddress,
    string Bridge,
    string ClientNetns,
    string ClientAddress,
    string SharedDir,
    string StorageUrl)
{
    /// <summary>lab/.state/lab.json of the checkout <paramref name="repositoryRoot"/>.</summary>
    public static string FileIn(string repositoryRoot) => Path.Combine(repositoryRoot, "lab", ".state", "lab.json");

    /// <summary>Reads and checks a state file. A missing file means the lab is not up (FileNotFoundException); a file
    /// that is not lab/up's JSON, or that puts a host or VM outside the lab's /24, is an InvalidDataException that
    /// names the file and what is wrong.</summary>
    public static LabState Read(string file)
    {
        if (!File.Exists(file))
        {
            throw new FileNotFoundException($"{file} is missing: the lab is not up. Run lab/up (as root) first; lab/down takes it away.", file);
        }

        LabState? state;
        try
        {
            state = JsonSerializer.Deserialize(File.ReadAllText(file), LabStateJson.Default.LabState);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{file}: not the lab state lab/up writes: {e.Message}", e);
        }

        if (state is null)
        {
            throw new InvalidDataException($"{file}: not the lab state lab/up writes: null");
        }

        state.CheckAddresses(file);
        return state;
    }

    /// <summary>Whether two IPv4 addresses share their first three octets (lab.conf's subnet is one /24).</summary>
    public static bool SameSlash24(IPAddress a, IPAddress b)
    {
        var x = a.GetAddressBytes();
        var y = b.GetAddressBytes();
        return x.Length == 4 && y.Length == 4 && x[0] == y[0] && x[1] == y[1] && x[2] == y[2];
    }

    public LabHost Host(string name) =>
        Hosts.SingleOrDefault(h => h.Name == name)
        ?? throw new KeyNotFoundException($"no host '{name}' in the lab (hosts: {string.Join(", ", Hosts.Select(h => h.Name))})");

    public LabVm Vm(string name) =>
        Vms.SingleOrDefault(v => v.Name == name)
        ?? throw new KeyNotFoundException($"no VM '{name}' in the lab (VMs: {string.Join(", ", Vms.Select(v => v.Name))})");

    // Programs send requests to these addresses (lab/load, the demo's prober): every one must be in the lab's own
    // /24, the one of the root namespace's address on the bridge, as lab/up's config parser makes sure.
    private void CheckAddresses(string file)
    {
        var root = Parse(file, "rootAddress", RootAddress);
        foreach (var (what, text) in Hosts.Select(h => ($"host {h.Name}", h.Address))
                     .Concat(Vms.Select(v => ($"VM {v.Name}", v.Address)))
                     .Append(("the client", ClientAddress)))
        {
            if (!SameSlash24(Parse(file, what, text), root))
            {
                throw new InvalidDataException($"{file}: {what} has address {text}, outside the lab's /24 ({RootAddress}/24)");
            }
        }
    }

    private static IPAddress Parse(string file, string what, string text) =>
        IPAddress.TryParse(text, out var address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
            ? address
            : throw new InvalidDataException($"{file}: {what} has address '{text}', not an IPv4 address");
}

/// <summary>One hypervisor host of the lab: a network namespace running libvirtd and the Exporter.</summary>
public sealed record LabHost(
    string Name,
    string Address,
    string LibvirtUri,
    string ExporterUrl,
    string Netns,
    double CpuQuota,
    long MemoryBytes);

/// <summary>One VM (libvirt domain) of the lab, with the host it belongs on and the pages it serves.</summary>
public sealed record LabVm(
    string Name,
    string HomeHost,
    string Address,
    string Url,
    string CgiUrl,
    string Mac,
    long MemoryBytes,
    LabDisk Disk);

/// <summary>A VM's data disk: an NBD export of the lab's storage server, backed by a raw file.</summary>
public sealed record LabDisk(string Device, string Export, string Path, long SizeBytes);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(LabState))]
internal sealed partial class LabStateJson : JsonSerializerContext;
