using System.Globalization;
using System.Text;
using Loadshift.Lab;
using Loadshift.Rebalancer.Cluster;
using Loadshift.Rebalancer.Execution;
using Loadshift.Rebalancer.Inventory;
using Loadshift.Rebalancer.Tests.Support;
using Loadshift.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Loadshift.Rebalancer.Tests.Lab;

/// <summary>The lab tests migrate the same VMs: one collection, so that xUnit runs them one after the other (run in
/// parallel, one test's migration of vm3 made the other's relief see vm3 on two hosts), with one fixture.</summary>
[CollectionDefinition(LabFixture.Collection)]
public sealed class LabGroup : ICollectionFixture<LabFixture>
{
}

/// <summary>The running lab as the Rebalancer's lab tests use it (lab/.state/lab.json): its hosts as an inventory with
/// each VM's home host, the journal, executor and worker on the real virsh (<see cref="Components"/>), a real
/// Prometheus scraping the lab's Exporters every 5 s with the committed recording rules (the figures
/// <see cref="PrometheusMetricsSource"/> reads, as the Rebalancer reads them), lab/load, and the VMs put home.</summary>
public sealed class LabFixture : IAsyncLifetime, IDisposable
{
    public const string Collection = "lab VMs";

    private readonly TempDirectory directory = new();
    private BackgroundProcess? prometheus;

    public LabState Lab { get; } = RunningLab.Read();

    public string PrometheusUrl { get; } = $"http://127.0.0.1:{Loopback.FreePort()}";

    internal VirshHypervisor Virsh { get; } =
        new(Options.Create(new LibvirtOptions()), TimeProvider.System, NullLogger<VirshHypervisor>.Instance);

    public async Task InitializeAsync()
    {
        var config = new StringBuilder($"""
            global: {"{"}scrape_interval: 5s, evaluation_interval: 5s{"}"}
            rule_files: ['{Path.Combine(RepositoryRoot.Path, "prometheus", "rules", "recording.yml")}']
            scrape_configs:
              - job_name: hypervisor
                static_configs:

            """);
        foreach (var host in Lab.Hosts)
        {
            config.Append(CultureInfo.InvariantCulture, $"          - targets: ['{new Uri(host.ExporterUrl).Authority}']\n            labels: {{host: '{host.Name}'}}\n");
        }
        await File.WriteAllTextAsync(directory.Combine("prometheus.yml"), config.ToString());
        prometheus = new BackgroundProcess("prometheus",
        [
            $"--config.file={directory.Combine("prometheus.yml")}",
            $"--storage.tsdb.path={directory.Combine("data")}",
            $"--web.listen-address={new Uri(PrometheusUrl).Authority}",
        ], directory.Path);
        await WaitAsync(async () => await ValueAsync("count(up == 1)") == Lab.Hosts.Count,
            $"Prometheus scrapes every Exporter of the lab\n{prometheus.Output}", TimeSpan.FromSeconds(60));
    }

    public Task DisposeAsync()
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        prometheus?.Dispose();
        prometheus = null;
        SqliteConnection.ClearAllPools();
        directory.Dispose();
    }

    /// <summary>The lab's VMs whose home is <paramref name="host"/>.</summary>
    public IReadOnlyList<string> HomeOf(string host) => [.. Lab.Vms.Where(v => v.HomeHost == host).Select(v => v.Name)];

    /// <summary>The lab's hosts (libvirt URI, CPU quota as capacity, memory) with each VM's home host, and
    /// <paramref name="rules"/>.</summary>
    public InventoryOptions Inventory(RuleOptions? rules = null) => new()
    {
        Hosts = [.. Lab.Hosts.Select(h => new InventoryHost
        {
            Name = h.Name, LibvirtUri = h.LibvirtUri, CpuCapacity = h.CpuQuota, MemoryBytes = h.MemoryBytes, Home = [.. HomeOf(h.Name)],
        })],
        Rules = rules ?? new RuleOptions(),
    };

    /// <summary>The journal (a new file in <paramref name="folder"/>, initialized), the executor and the worker on the
    /// real virsh, with the load figures of this fixture's Prometheus unless <paramref name="metrics"/> is given.</summary>
    internal async Task<Components> ComponentsAsync(TempDirectory folder, PolicyOptions policy, InventoryOptions inventory,
        IMetricsSource? metrics = null)
    {
        var components = new Components(folder.Combine("journal.db"), Virsh, policy: policy, inventory: inventory,
            metricsSource: metrics ?? new PrometheusMetricsSource(PrometheusQueries.Http,
                Options.Create(new PrometheusOptions { Url = new Uri(PrometheusUrl) })));
        await components.Journal.InitializeAsync(CancellationToken.None);
        return components;
    }

    /// <summary>lab/load: <paramref name="rate"/> CGI requests a second to each of <paramref name="vms"/> (stopped on
    /// dispose).</summary>
    public static BackgroundProcess Load(IEnumerable<string> vms, double rate, TimeSpan duration) =>
        new(Path.Combine(RepositoryRoot.Path, "lab", "load"),
            ["--vm", string.Join(',', vms), "--rate", rate.ToString(CultureInfo.InvariantCulture),
                "--duration", $"{(int)duration.TotalSeconds}s"], RepositoryRoot.Path);

    /// <summary>An instant query's first value (NaN when none).</summary>
    public Task<double> ValueAsync(string query) => PrometheusQueries.ValueAsync(PrometheusUrl, query);

    /// <summary>The VMs of <paramref name="home"/> running there, in the lab's order; fails, saying to run lab/up, unless
    /// all of them do.</summary>
    public async Task<IReadOnlyList<string>> AllHomeAsync(string home)
    {
        var running = await Virsh.ListRunningDomainsAsync(Host(home), CancellationToken.None);
        Assert.True(HomeOf(home).All(running.Contains), $"{string.Join(", ", HomeOf(home))} must be home on {home} (it runs: {string.Join(", ", running)}); run lab/up");
        return HomeOf(home);
    }

    /// <summary>Every lab VM found away from home live-migrated home by virsh (whatever a test left behind), then
    /// checked home.</summary>
    public async Task PutHomeAsync()
    {
        foreach (var host in Lab.Hosts)
        {
            foreach (var domain in await Virsh.ListRunningDomainsAsync(Host(host.Name), CancellationToken.None))
            {
                if (Lab.Vms.SingleOrDefault(v => v.Name == domain) is { } vm && vm.HomeHost != host.Name)
                {
                    var attempt = await Virsh.MigrateAsync(domain, Host(host.Name), Host(vm.HomeHost), TimeSpan.FromMinutes(2), [], CancellationToken.None);
                    Assert.True(attempt.Succeeded, $"{domain} {host.Name} -> {vm.HomeHost}: exit {attempt.ExitCode} {attempt.Stderr}");
                }
            }
        }
        foreach (var home in Lab.Vms.Select(v => v.HomeHost).Distinct(StringComparer.Ordinal))
        {
            await AllHomeAsync(home);
        }
    }

    /// <summary>A host of <see cref="Inventory"/> by name.</summary>
    public InventoryHost Host(string name) =>
        Inventory().FindHost(name) ?? throw new InvalidOperationException($"lab.json has no {name}");

    public static async Task WaitAsync(Func<Task<bool>> condition, string what, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out after {timeout.TotalSeconds:0} s waiting for: {what}");
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }
}
