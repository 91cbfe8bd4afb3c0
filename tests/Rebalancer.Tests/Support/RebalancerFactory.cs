using Loadshift.Rebalancer.Cluster;
using Loadshift.Rebalancer.Execution;
using Loadshift.Rebalancer.Inventory;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Loadshift.Rebalancer.Tests.Support;

/// <summary>The real Rebalancer (webhook, journal on a real SQLite file, worker, planner, executor) with only
/// what lies outside the process swapped: libvirt (<see cref="IHypervisor"/>) and Prometheus
/// (<see cref="IMetricsSource"/>), because the tests must not need a lab.</summary>
public sealed class RebalancerFactory : WebApplicationFactory<Program>
{
    public const string Token = "test-token-5f1c";

    private readonly TempDirectory directory = new();

    public RebalancerFactory()
    {
        File.WriteAllText(directory.Combine("token"), Token + "\n");
        // The seed's cluster: three web VMs at home on hv1.
        Hypervisor.Place("vm1", "hv1");
        Hypervisor.Place("vm2", "hv1");
        Hypervisor.Place("vm3", "hv1");
        Metrics.Set(
            new() { ["hv1"] = 0.93, ["hv2"] = 0.04, ["hv3"] = 0.05 },
            new() { [("hv1", "vm1")] = 0.30, [("hv1", "vm2")] = 0.29, [("hv1", "vm3")] = 0.31 });
    }

    public FakeHypervisor Hypervisor { get; } = new();

    public FakeMetricsSource Metrics { get; } = new();

    public string JournalPath => directory.Combine("journal.db");

    /// <summary>Extra configuration keys (e.g. policy:dryRun) set before the host starts.</summary>
    public Dictionary<string, string?> Settings { get; } = [];

    /// <summary>A clock the test moves, set before the host starts; the system clock otherwise.</summary>
    public TimeProvider? Time { get; set; }

    /// <summary>Every log line the service writes, to check the warnings it owes the operator.</summary>
    public LogSink Logs { get; } = new();

    public HttpClient CreateAuthorizedClient()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Token);
        return client;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        var inventory = directory.Combine("inventory.yaml");
        File.WriteAllText(inventory, $"""
            webhook:
              tokenFile: {directory.Combine("token")}
              maxBodyBytes: 65536
            journal:
              path: {JournalPath}
            policy:
              checkInterval: 1h
              settleTime: 0s
            hosts:
              - name: hv1
                libvirtUri: qemu+tcp://10.0.0.1/system
                cpuCapacity: 2
                memoryBytes: 8589934592
                home: [vm1, vm2, vm3]
              - name: hv2
                libvirtUri: qemu+tcp://10.0.0.2/system
                cpuCapacity: 2
                memoryBytes: 8589934592
              - name: hv3
                libvirtUri: qemu+tcp://10.0.0.3/system
                cpuCapacity: 2
                memoryBytes: 8589934592
            """);
        builder.ConfigureAppConfiguration(configuration =>
        {
            configuration.Add(new YamlConfigurationSource(inventory));
            configuration.AddInMemoryCollection(Settings);
        });
        builder.ConfigureLogging(logging => logging.AddProvider(Logs));
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<IHypervisor>(Hypervisor);
            services.AddSingleton<IMetricsSource>(Metrics);
            // Time only when a test moves it (expiries measured in minutes); the timers still run on the system's.
            if (Time is { } time)
            {
                services.AddSingleton(time);
            }
        });
    }

    protected override void Dispose(bool disposing)
    {
        // A migration a failed test still holds would keep the worker's stop waiting.
        Hypervisor.Hold?.TrySetResult();
        base.Dispose(disposing);
        if (disposing)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            directory.Dispose();
        }
    }
}
