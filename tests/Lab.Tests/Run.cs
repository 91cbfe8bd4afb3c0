namespace Loadshift.Lab.Tests;

/// <summary>The lab's scripts and virsh, run through the shared runner (Tool) from the checkout.</summary>
internal static class Run
{
    /// <summary>A script of the lab, e.g. Lab("status").</summary>
    public static Task<ToolResult> Lab(string script, TimeSpan timeout, params string[] arguments) =>
        Tool.RunAsync(Path.Combine(RepositoryRoot.Path, "lab", script), arguments, timeout: timeout);

    /// <summary>virsh against one host's libvirtd.</summary>
    public static Task<ToolResult> Virsh(LabHost host, params string[] arguments) =>
        Tool.RunAsync("virsh", ["-q", "-c", host.LibvirtUri, .. arguments], timeout: TimeSpan.FromSeconds(30));
}
