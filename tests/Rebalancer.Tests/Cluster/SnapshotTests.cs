using System.Net;
using Loadshift.Rebalancer.Cluster;
using Loadshift.Rebalancer.Inventory;
using Loadshift.Rebalancer.Planning;
using Microsoft.Extensions.Options;

namespace Loadshift.Rebalancer.Tests.Cluster;

/// <summary>The snapshot from Prometheus answers captured in the lab (Payloads/prometheus/*.json, Prometheus 2.x
/// evaluating the project's recording rules on the lab's exporters while hv1 was loaded and vm1 had just been
/// to hv2 and back).</summary>
public sealed class SnapshotTests
{
    private static readonly Dictionary<string, string> Fixtures = new(StringComparer.Ordinal)
    {
        ["host:hypervisor_cpu_busy:ratio_rate1m"] = "host-busy.json",
        ["max_over_time(host:hypervisor_cpu_busy:ratio_rate1m[180s])"] = "host-busy-max.json",
        ["hypervisor_memory_available_bytes"] = "memory-available.json",
        ["hypervisor_cpus"] = "cpus.json",
        ["host_domain:libvirt_domain_cpu:ratio_rate1m"] = "domain-cpu.json",
        ["libvirt_domain_memory_maximum_bytes"] = "domain-memory-maximum.json",
        ["libvirt_domain_memory_current_bytes"] = "domain-memory-current.json",
        ["host:hypervisor_memory_used:ratio"] = "memory-used.json",
        // Not captured: memory-available.json's shape with each lab host's 2 GiB (lab/lab.conf).
        ["hypervisor_memory_total_bytes"] = "memory-total.json",
    };

    private sealed class CapturedPrometheus : HttpMessageHandler
    {
        public List<string> Queries { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var query = Uri.UnescapeDataString(request.RequestUri!.Query["?query=".Length..]);
            lock (Queries)
            {
                Queries.Add(query);
            }
            var file = Path.Combine(AppContext.BaseDirectory, "Payloads", "prometheus", Fixtures[query]);
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(File.ReadAllText(file)) });
        }
    }

    private static async Task<LoadMetrics> LoadAsync()
    {
        using var handler = new CapturedPrometheus();
        using var http = new HttpClient(handler);
        var source = new PrometheusMetricsSource(http, Options.Create(new PrometheusOptions { Url = new Uri("http://127.0.0.1:9090") }));
        var load = await source.GetLoadAsync(TimeSpan.FromMinutes(3), CancellationToken.None);
        Assert.Equal(Fixtures.Keys.Order(StringComparer.Ordinal), handler.Queries.Order(StringComparer.Ordinal));
        return load;
    }

    [Fact]
    public async Task The_queries_answers_are_read_by_host_and_domain()
    {
        var load = await LoadAsync();

        Assert.Equal(0.5872, load.HostBusy["hv1"], 3);
        Assert.Equal(0.8582, load.HostCalmWindowMaxBusy["hv1"], 3);
        Assert.Equal(134217728, load.DomainMemoryMaximum[("hv1", "vm2")]);
        Assert.Equal(0.1821, load.DomainCpuShare[("hv1", "vm2")], 3);
        Assert.InRange(load.HostMemoryUsed["hv1"], 0.01, 0.99);
        Assert.Equal(2147483648, load.HostMemoryTotal!["hv3"]);
        // vm1's series on hv2 is the leftover of its trip there and back.
        Assert.True(load.DomainCpuShare.ContainsKey(("hv2", "vm1")));
    }

    [Fact]
    public async Task The_planning_input_takes_placement_from_libvirt_and_load_from_prometheus()
    {
        var load = await LoadAsync();
        var inventory = new InventoryOptions
        {
            Hosts =
            [
                new InventoryHost { Name = "hv1", LibvirtUri = "qemu+tcp://a/system", CpuCapacity = 0.6, MemoryBytes = 2L << 30 },
                new InventoryHost { Name = "hv2", LibvirtUri = "qemu+tcp://b/system", CpuCapacity = 0.6, MemoryBytes = 2L << 30 },
                new InventoryHost { Name = "hv3", LibvirtUri = "qemu+tcp://c/system", CpuCapacity = 1.2, MemoryBytes = 2L << 30 },
            ],
            Pinned = ["vm3"],
        };
        // libvirt: vm1 and vm3 on hv1; vm2 just arrived on hv3, where Prometheus has no series for it yet.
        var snapshot = new ClusterSnapshot(DateTimeOffset.UtcNow,
            [new HostObservation("hv1", true, null, ["vm1", "vm3"]), new HostObservation("hv2", true, null, []), new HostObservation("hv3", true, null, ["vm2"])],
            load, null, new HashSet<string> { "hv2" },
            new Dictionary<string, string> { ["vm1"] = "hv1", ["vm2"] = "hv1", ["vm3"] = "hv1" });

        var input = ClusterObserver.ToPlanningInput(snapshot, inventory, new PolicyOptions(), new Dictionary<string, DomainHistory>(), [], DateTimeOffset.UtcNow);

        var vm1 = input.Domains.Single(d => d.Name == "vm1");
        Assert.Equal(("hv1", 0.1833, 134217728L), (vm1.Host, Math.Round(vm1.CpuShare, 4), vm1.MemoryBytes));
        var vm2 = input.Domains.Single(d => d.Name == "vm2");
        // Its share of hv1 (0.6 CPU) is half as much of hv3 (1.2 CPU).
        Assert.Equal(0.1821 / 2, vm2.CpuShare, 3);
        Assert.Equal("hv1", vm2.HomeHost);
        Assert.True(input.Domains.Single(d => d.Name == "vm3").Pinned);
        Assert.True(input.Hosts.Single(h => h.Name == "hv2").Maintenance);
        Assert.Equal(0.6, input.Hosts[0].CpuCapacity);
    }

    [Fact]
    public async Task A_domain_libvirt_shows_on_two_hosts_counts_on_the_first_and_names_the_other()
    {
        var inventory = new InventoryOptions
        {
            Hosts =
            [
                new InventoryHost { Name = "hv1", LibvirtUri = "qemu+tcp://a/system", CpuCapacity = 0.6 },
                new InventoryHost { Name = "hv2", LibvirtUri = "qemu+tcp://b/system", CpuCapacity = 0.6 },
            ],
        };
        var snapshot = new ClusterSnapshot(DateTimeOffset.UtcNow,
            [new HostObservation("hv1", true, null, ["vm1", "vm2"]), new HostObservation("hv2", true, null, ["vm1"])],
            await LoadAsync(), null, new HashSet<string>(), new Dictionary<string, string>());

        var input = ClusterObserver.ToPlanningInput(snapshot, inventory, new PolicyOptions(), new Dictionary<string, DomainHistory>(), [], DateTimeOffset.UtcNow);

        Assert.Equal(2, input.Domains.Count);
        var vm1 = input.Domains.Single(d => d.Name == "vm1");
        Assert.Equal(("hv1", "hv2"), (vm1.Host, vm1.AlsoOn));
        Assert.Null(input.Domains.Single(d => d.Name == "vm2").AlsoOn);
    }
}

public sealed class PrometheusAnswerTests
{
    [Theory]
    [InlineData("""{"status":"error","errorType":"bad_data","error":"parse error"}""", "parse error")]
    [InlineData("""{"status":"success","data":{"resultType":"matrix"}}""", "not an instant vector")]
    public void Answers_that_are_not_an_instant_vector_make_the_metrics_unavailable(string json, string message)
    {
        using var document = System.Text.Json.JsonDocument.Parse(json);

        var error = Assert.Throws<MetricsUnavailableException>(() => PrometheusMetricsSource.ParseVector(document.RootElement, "up"));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
