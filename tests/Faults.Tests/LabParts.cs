using System.Globalization;

namespace Loadshift.Faults.Tests;

/// <summary>The lab's parts the faults strike, each through the lab's own handles (lab/.state's pid files, the
/// hosts' namespaces): a host's libvirtd, its link, the storage server; and libvirt's view of where each VM is.</summary>
public sealed class LabParts(LabState lab)
{
    private static readonly TimeSpan VirshTimeout = TimeSpan.FromSeconds(30);

    private static string StateDirectory => Path.GetDirectoryName(RunningLab.StateFile)!;

    public LabState Lab { get; } = lab;

    /// <summary>For each VM, the hosts whose libvirt runs it (running or paused), and those defining it at all.</summary>
    public async Task<Placement> PlacementAsync()
    {
        var running = Lab.Vms.ToDictionary(v => v.Name, _ => new List<string>(), StringComparer.Ordinal);
        var defined = Lab.Vms.ToDictionary(v => v.Name, _ => new List<string>(), StringComparer.Ordinal);
        var silent = new List<string>();
        foreach (var host in Lab.Hosts)
        {
            var all = await Tool.RunAsync("virsh", ["-q", "-c", host.LibvirtUri, "list", "--all", "--name"], timeout: VirshTimeout);
            var up = await Tool.RunAsync("virsh", ["-q", "-c", host.LibvirtUri, "list", "--name"], timeout: VirshTimeout);
            if (all.ExitCode != 0 || up.ExitCode != 0)
            {
                silent.Add(host.Name);
                continue;
            }
            foreach (var name in Lines(all.Stdout).Where(defined.ContainsKey))
            {
                defined[name].Add(host.Name);
            }
            foreach (var name in Lines(up.Stdout).Where(running.ContainsKey))
            {
                running[name].Add(host.Name);
            }
        }
        return new Placement(running, defined, silent);
    }

    /// <summary>SIGKILL to a host's libvirtd (its QEMUs live on, as after a libvirtd crash).</summary>
    public static void KillLibvirtd(string host) => Signal("KILL", LibvirtdId(host));

    /// <summary>SIGTERM to a host's libvirtd, waits for it to go, and starts it again.</summary>
    public async Task RestartLibvirtdAsync(string host)
    {
        var id = LibvirtdId(host);
        Signal("TERM", id);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Directory.Exists($"/proc/{id}") && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        await StartLibvirtdAsync(host);
    }

    /// <summary>libvirtd as lab/up starts it (make_host): in the host's cgroups and namespaces, joined through the
    /// namespace keeper's pid; then until it answers.</summary>
    public async Task StartLibvirtdAsync(string host)
    {
        var keeper = (await File.ReadAllTextAsync(Path.Combine(StateDirectory, "pids", $"keeper-{host}.pid"))).Trim();
        Tool.RunOk(Path.Combine(RepositoryRoot.Path, "lab", "lib", "in-host"),
            [host, "nsenter", "-t", keeper, "-n", "-m", "-u", "--", "libvirtd", "-d", "--listen", "-p", "/run/libvirt/libvirtd.pid",
                "--config", "/etc/libvirt/libvirtd.conf"]);
        var uri = Lab.Host(host).LibvirtUri;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await Tool.RunAsync("virsh", ["-q", "-c", uri, "uri"], timeout: VirshTimeout)).ExitCode != 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"libvirtd of {host} does not answer 60 s after its start");
            await Task.Delay(200);
        }
    }

    /// <summary>The host's only link (eth0, its end of the lab's switch) down or up: only the lab's own namespaces.</summary>
    public void SetLink(string host, bool up) =>
        Tool.RunOk("ip", ["-n", Lab.Host(host).Netns, "link", "set", "eth0", up ? "up" : "down"]);

    /// <summary>SIGSTOP or SIGCONT to the storage server (qemu-storage-daemon): every VM's disk stalls or resumes.</summary>
    public static void SetStorageStalled(bool stalled) =>
        Signal(stalled ? "STOP" : "CONT", ReadId(Path.Combine(StateDirectory, "pids", "storage.pid"), "qemu-storage-da"));

    /// <summary>Whether virsh domjobinfo on <paramref name="host"/> shows <paramref name="domain"/> in a migration that
    /// has moved data.</summary>
    public async Task<bool> MigratingAsync(string host, string domain)
    {
        var job = await Tool.RunAsync("virsh", ["-c", Lab.Host(host).LibvirtUri, "domjobinfo", "--domain", domain], timeout: VirshTimeout);
        return job.ExitCode == 0 && job.Stdout.Contains("Unbounded", StringComparison.Ordinal)
            && job.Stdout.Contains("Data processed", StringComparison.Ordinal);
    }

    public async Task StartDomainAsync(string host, string domain) =>
        Assert.Equal(0, (await Tool.RunAsync("virsh", ["-c", Lab.Host(host).LibvirtUri, "start", "--domain", domain], timeout: TimeSpan.FromMinutes(1))).ExitCode);

    private static int LibvirtdId(string host) => ReadId(Path.Combine(StateDirectory, "hosts", host, "run", "libvirtd.pid"), "libvirtd");

    /// <summary>The pid in a pid file, checked against its command name (/proc/PID/comm: the first 15 characters) so
    /// that a recycled pid is never signalled.</summary>
    private static int ReadId(string file, string command)
    {
        var id = int.Parse(File.ReadAllText(file).Trim(), CultureInfo.InvariantCulture);
        var comm = File.ReadAllText($"/proc/{id}/comm").Trim();
        Assert.True(comm == command, $"{file} names pid {id}, which is {comm}, not {command}");
        return id;
    }

    private static void Signal(string signal, int id) => Tool.RunOk("kill", [$"-{signal}", id.ToString(CultureInfo.InvariantCulture)]);

    private static string[] Lines(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <param name="Running">VM -> the hosts running it.</param>
/// <param name="Defined">VM -> the hosts defining it (running or not).</param>
/// <param name="Silent">Hosts whose libvirt did not answer.</param>
public sealed record Placement(IReadOnlyDictionary<string, List<string>> Running, IReadOnlyDictionary<string, List<string>> Defined,
    IReadOnlyList<string> Silent)
{
    /// <summary>Every VM (but those in <paramref name="moving"/>) defined on exactly one host and running there or shut
    /// off (scenario 5 shuts one off), every host answering.</summary>
    public bool EachOnOneHost(IReadOnlySet<string>? moving = null) =>
        Silent.Count == 0 && Running.Where(r => moving?.Contains(r.Key) != true)
            .All(r => Defined[r.Key].Count == 1 && r.Value.All(Defined[r.Key].Contains));

    /// <summary>The one host defining <paramref name="vm"/>.</summary>
    public string HostOf(string vm) => Defined[vm].Single();

    public override string ToString() =>
        string.Join("; ", Running.Select(r => $"{r.Key} running on [{string.Join(",", r.Value)}] defined on [{string.Join(",", Defined[r.Key])}]"))
        + (Silent.Count > 0 ? $"; no answer from {string.Join(",", Silent)}" : "");
}
