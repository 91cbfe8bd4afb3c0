using System.Text;
using System.Text.Json;
using Loadshift.Lab;
using Loadshift.Testing;

namespace Loadshift.Cli.Tests;

/// <summary>A Prometheus of its own (prometheus/render: the project's rules, 1 s scrapes of the lab's exporters) for
/// the lab tests of this class, started once.</summary>
public sealed class LabPrometheus : IDisposable
{
    private readonly TempDirectory directory = new();
    private readonly BackgroundProcess process;

    public LabPrometheus()
    {
        Lab = RunningLab.Read();
        var targets = new StringBuilder();
        foreach (var host in Lab.Hosts)
        {
            targets.Append($"- targets: ['{new Uri(host.ExporterUrl).Authority}']\n  labels: {{host: '{host.Name}'}}\n");
        }
        File.WriteAllText(directory.Combine("targets.yml"), targets.ToString());
        var port = Loopback.FreePort();
        Url = $"http://127.0.0.1:{port}";
        Tool.RunOk(Path.Combine(RepositoryRoot.Path, "prometheus", "render"),
        [
            directory.Combine("prometheus"), "--scrape-interval", "1s", "--evaluation-interval", "1s",
            "--targets-file", directory.Combine("targets.yml"), "--prometheus-url", Url,
            // No Alertmanager: these tests move domains by drain and approve, not by HypervisorCpuHigh.
            "--alertmanager-url", $"http://127.0.0.1:{Loopback.FreePort()}",
        ]);
        process = new BackgroundProcess("prometheus",
        [
            $"--config.file={directory.Combine("prometheus", "prometheus.yml")}",
            $"--storage.tsdb.path={directory.Combine("data")}",
            $"--web.listen-address=127.0.0.1:{port}",
        ], directory.Path);
    }

    public LabState Lab { get; }

    public string Url { get; }

    public string Output => process.Output;

    public void Dispose()
    {
        process.Dispose();
        directory.Dispose();
    }
}

/// <summary>The real Rebalancer (src/Rebalancer's build, as a process) against the lab: real libvirt on the three
/// hosts, the Prometheus above, its own journal and token, the automation level of the test and short durations.</summary>
public sealed class LabRebalancer : IDisposable
{
    private readonly TempDirectory directory = new();
    private readonly BackgroundProcess process;

    public LabRebalancer(LabPrometheus prometheus, string automation)
    {
        File.WriteAllText(directory.Combine("token"), "lab-cli-token\n");
        Port = Loopback.FreePort();
        var hosts = string.Concat(prometheus.Lab.Hosts.Select(h => $"""
              - name: {h.Name}
                libvirtUri: {h.LibvirtUri}
                cpuCapacity: {h.CpuQuota.ToString(System.Globalization.CultureInfo.InvariantCulture)}
                memoryBytes: {h.MemoryBytes}
                home: [{string.Join(", ", prometheus.Lab.Vms.Where(v => v.HomeHost == h.Name).Select(v => v.Name))}]

            """));
        File.WriteAllText(directory.Combine("inventory.yaml"), $"""
            listen: http://127.0.0.1:{Port}
            prometheus:
              url: {prometheus.Url}
            webhook:
              tokenFile: {directory.Combine("token")}
            journal:
              path: {directory.Combine("journal.db")}
            policy:
              automation: {automation}
              returnHomeAfter: 10s
              cooldown: 0s
              settleTime: 5s
              decisionWindow: 5s
              checkInterval: 2s
              migrationTimeout: 2m
              # 20 MiB/s: a 128 MiB guest takes some 7 s instead of 2 to 4, so that watch has a few refreshes to show it.
              virshFlags: ["--bandwidth=20"]
            hosts:
            {hosts}
            """);
        var dll = Path.Combine(RepositoryRoot.Path, "src", "Rebalancer", "bin",
            new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name, "net10.0", "loadshift-rebalancer.dll");
        process = new BackgroundProcess("dotnet", [dll, "--config", directory.Combine("inventory.yaml")], directory.Path);
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}";

    public string TokenFile => directory.Combine("token");

    public string Output => process.Output;

    public IReadOnlyDictionary<string, string?> Environment => new Dictionary<string, string?>
    {
        ["LOADSHIFT_URL"] = Url,
        ["LOADSHIFT_TOKEN_FILE"] = TokenFile,
    };

    public Task<ToolResult> RunAsync(params string[] arguments) => Loadshift.RunAsync(arguments, Environment);

    /// <summary>loadshift ARGS -o json, which must succeed.</summary>
    public async Task<JsonElement> JsonAsync(params string[] arguments)
    {
        var result = await RunAsync([.. arguments, "-o", "json"]);
        Assert.True(result.ExitCode == 0, $"{result}\n--- rebalancer\n{Output}");
        using var document = JsonDocument.Parse(result.Stdout);
        return document.RootElement.Clone();
    }

    /// <summary>Where libvirt runs each domain now, as the Rebalancer's status reports it from the hosts ("?" for a domain
    /// libvirt shows on two hosts).</summary>
    public async Task<Dictionary<string, string>> PlacementAsync()
    {
        var status = await JsonAsync("status");
        var placement = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var host in status.GetProperty("hosts").EnumerateArray())
        {
            foreach (var domain in host.GetProperty("domains").EnumerateArray().Select(d => d.GetString()!))
            {
                // On two hosts while a migration runs (paused on its target): neither yet.
                placement[domain] = placement.ContainsKey(domain) ? "?" : host.GetProperty("name").GetString()!;
            }
        }
        return placement;
    }

    /// <summary>Waits until the Rebalancer answers and has load figures for every host.</summary>
    public async Task ReadyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        string last = "";
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(process.HasExited, $"the Rebalancer exited:\n{Output}");
            var result = await RunAsync("status", "-o", "json");
            last = result.ToString();
            if (result.ExitCode == 0)
            {
                using var document = JsonDocument.Parse(result.Stdout);
                if (document.RootElement.GetProperty("hosts").EnumerateArray().All(h => h.GetProperty("busyRatio").ValueKind == JsonValueKind.Number))
                {
                    return;
                }
            }
            await Task.Delay(1000);
        }
        Assert.Fail($"the Rebalancer had no load figures for every host within {timeout.TotalSeconds:0} s:\n{last}\n--- rebalancer\n{Output}");
    }

    /// <summary>Stops the Rebalancer; a second call does nothing (the test's cleanup stops it before moving VMs home).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }
        process.Dispose();
        directory.Dispose();
    }

    private int disposed;
}
