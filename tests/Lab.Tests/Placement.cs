namespace Loadshift.Lab.Tests;

/// <summary>What the Lab tests ask libvirt about the lab of lab/.state/lab.json (RunningLab reads it).</summary>
internal static class Placement
{
    /// <summary>The one host <paramref name="vm"/> runs on; fails the calling test when it runs on none or several.</summary>
    public static async Task<LabHost> RunningOn(this LabState lab, LabVm vm)
    {
        var hosts = new List<LabHost>();
        foreach (var host in lab.Hosts)
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
}
