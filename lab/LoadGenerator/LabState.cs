using System.Net;
using System.Text.Json;

namespace Loadshift.Lab.LoadGenerator;

/// <summary>The VMs of lab/.state/lab.json, the only addresses this program sends requests to.</summary>
internal sealed record LabVm(string Name, IPAddress Address);

internal static class LabState
{
    public static IReadOnlyList<LabVm> ReadVms(string stateFile)
    {
        if (!File.Exists(stateFile))
        {
            throw new UsageException($"{stateFile} is missing: the lab is not up (run lab/up)");
        }
        using var document = JsonDocument.Parse(File.ReadAllText(stateFile));
        var root = document.RootElement;
        var rootAddress = IPAddress.Parse(root.GetProperty("rootAddress").GetString()!);
        var vms = new List<LabVm>();
        foreach (var vm in root.GetProperty("vms").EnumerateArray())
        {
            var address = IPAddress.Parse(vm.GetProperty("address").GetString()!);
            // Every lab address is in the lab's own /24, the one of the root namespace's address on the bridge.
            if (!SameSlash24(address, rootAddress))
            {
                throw new UsageException($"{stateFile}: VM address {address} is outside the lab's /24 ({rootAddress}/24)");
            }
            vms.Add(new LabVm(vm.GetProperty("name").GetString()!, address));
        }
        return vms;
    }

    public static bool SameSlash24(IPAddress a, IPAddress b)
    {
        var x = a.GetAddressBytes();
        var y = b.GetAddressBytes();
        return x.Length == 4 && y.Length == 4 && x[0] == y[0] && x[1] == y[1] && x[2] == y[2];
    }

    public static IReadOnlyList<LabVm> Select(IReadOnlyList<LabVm> vms, IReadOnlyList<string> names)
    {
        if (names.Count == 0)
        {
            return vms;
        }
        return names.Select(name => vms.FirstOrDefault(vm => vm.Name == name)
            ?? throw new UsageException($"no VM '{name}' in the lab (VMs: {string.Join(", ", vms.Select(v => v.Name))})"))
            .ToList();
    }
}
