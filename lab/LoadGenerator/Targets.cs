namespace Loadshift.Lab.LoadGenerator;

/// <summary>The VMs this program sends requests to: only the lab's own, as lab/.state/lab.json names them.</summary>
internal static class Targets
{
    /// <summary>The VMs of <paramref name="stateFile"/> named in <paramref name="names"/>, or all of them when none is
    /// named; a lab that is not up, a state file lab/up did not write or an unknown name is a usage error.</summary>
    public static IReadOnlyList<LabVm> Read(string stateFile, IReadOnlyList<string> names)
    {
        LabState lab;
        try
        {
            lab = LabState.Read(stateFile);
        }
        catch (Exception e) when (e is FileNotFoundException or InvalidDataException)
        {
            throw new UsageException(e.Message);
        }
        return Select(lab.Vms, names);
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
