using Loadshift.Exporter.Collectors;
using Loadshift.Exporter.Libvirt;
using Loadshift.Exporter.Scraping;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loadshift.Exporter.Tests;

public sealed class CpuCollectorTests : IDisposable
{
    private readonly string _procfs = Directory.CreateTempSubdirectory("procfs-").FullName;

    public void Dispose() => Directory.Delete(_procfs, recursive: true);

    private readonly TestRegistry _registry = new();

    private CpuCollector NewCollector(long userHz, string? procfs = null) => new(procfs ?? _procfs, userHz, _registry.Metrics);

    private async Task<string> CollectAsync(CpuCollector collector, string stat)
    {
        await File.WriteAllTextAsync(Path.Combine(_procfs, "stat"), stat);
        Assert.True(await collector.CollectAsync(new ScrapeContext(TimeSpan.FromSeconds(1)), CancellationToken.None));
        return await _registry.ExposeAsync();
    }

    [Fact]
    public async Task Seconds_are_ticks_divided_by_user_hz()
    {
        var text = await CollectAsync(NewCollector(userHz: 250), "cpu0 500 0 250 1000 0 0 0 0 100 0\n");

        Assert.Contains("hypervisor_cpu_seconds_total{cpu=\"0\",mode=\"user\"} 1.6\n", text, StringComparison.Ordinal);
        Assert.Contains("hypervisor_cpu_seconds_total{cpu=\"0\",mode=\"guest\"} 0.4\n", text, StringComparison.Ordinal);
        Assert.Contains("hypervisor_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 4\n", text, StringComparison.Ordinal);
        Assert.Contains("hypervisor_cpus 1\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("cpu=\"all\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_counter_that_steps_back_is_held_at_its_highest_value()
    {
        var collector = NewCollector(userHz: 100);
        await CollectAsync(collector, "cpu0 100 0 50 1000 20 0 0 0 0 0\n");
        var text = await CollectAsync(collector, "cpu0 110 0 50 998 19 0 0 0 0 0\n"); // idle and iowait stepped back
        var later = await CollectAsync(collector, "cpu0 120 0 50 1005 21 0 0 0 0 0\n");

        Assert.Contains("{cpu=\"0\",mode=\"idle\"} 10\n", text, StringComparison.Ordinal);
        Assert.Contains("{cpu=\"0\",mode=\"iowait\"} 0.2\n", text, StringComparison.Ordinal);
        Assert.Contains("{cpu=\"0\",mode=\"user\"} 1.1\n", text, StringComparison.Ordinal);
        Assert.Contains("{cpu=\"0\",mode=\"idle\"} 10.05\n", later, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Offline_cpu_keeps_its_own_number()
    {
        var text = await CollectAsync(NewCollector(100), Fixtures.Read("procfs-cpu2-offline", "stat"));

        Assert.Contains("hypervisor_cpus 3\n", text, StringComparison.Ordinal);
        Assert.Contains("{cpu=\"3\",mode=\"idle\"} 2650\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("cpu=\"2\"", text, StringComparison.Ordinal);
    }
}

public class DomainSampleTests
{
    private static List<DomainSample> Samples() =>
        [.. VirshDomstats.Parse(Fixtures.Read("domstats", "two-domains.txt")).Select(DomainSample.From)];

    [Fact]
    public void Bulk_stats_keys_map_onto_the_sample()
    {
        var web = Samples()[0];

        Assert.Equal(("web1", 1, 1), (web.Name, web.State, web.StateReason));
        Assert.Equal(48131442000, web.CpuTimeNanoseconds);
        Assert.Equal([new VcpuSample(0, 43020000000)], web.Vcpus);
        Assert.Equal((131072d, 96452d), (web.BalloonMaximumKibibytes, web.BalloonRssKibibytes));
        var net = Assert.Single(web.Interfaces);
        Assert.Equal(("vnet0", 2785204d, 35107733d, 3d), (net.Name, net.ReceiveBytes, net.TransmitBytes, net.ReceiveDrops));
        var block = Assert.Single(web.Blocks);
        Assert.Equal(("vda", 3120d, 211d, 91017216d), (block.Name, block.ReadRequests, block.WriteRequests, block.ReadBytes));
    }

    [Fact]
    public void A_real_capture_from_the_lab_maps_including_string_valued_keys()
    {
        var vm1 = DomainSample.From(Assert.Single(VirshDomstats.Parse(Fixtures.Read("domstats", "lab-vm1-running.txt"))));

        Assert.Equal(("vm1", 1, 1), (vm1.Name, vm1.State, vm1.StateReason));
        Assert.Equal(31290000000, vm1.CpuTimeNanoseconds);
        Assert.Equal(131072, vm1.BalloonMaximumKibibytes);
        Assert.Equal("vnet0", Assert.Single(vm1.Interfaces).Name);
        Assert.Empty(vm1.Blocks); // captured before the lab's VMs had a data disk
    }

    [Fact]
    public void A_real_capture_of_a_lab_vm_with_its_nbd_data_disk_maps_the_block_counters()
    {
        // `virsh -c qemu+tcp://10.213.7.11/system domstats --raw vm1` on the lab after one CGI request: the disk is
        // a network disk (an NBD export), so libvirt gives no block.0.path.
        var vm1 = DomainSample.From(Assert.Single(VirshDomstats.Parse(Fixtures.Read("domstats", "lab-vm1-with-disk.txt"))));

        var disk = Assert.Single(vm1.Blocks);
        Assert.Equal(new BlockSample("vda", ReadRequests: 5, ReadBytes: 16896, WriteRequests: 1, WriteBytes: 4096), disk);
        Assert.Equal("vnet0", Assert.Single(vm1.Interfaces).Name);
    }

    [Fact]
    public void A_shut_off_domain_has_no_cpu_or_rss_samples()
    {
        var lines = Render(Samples()).Split('\n');

        Assert.Contains("libvirt_domain_state{domain=\"db \\\"primary\\\"\"} 5", lines);
        Assert.Contains("libvirt_domain_memory_maximum_bytes{domain=\"db \\\"primary\\\"\"} 536870912", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith("libvirt_domain_cpu_time_seconds_total{domain=\"db", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.StartsWith("libvirt_domain_memory_rss_bytes{domain=\"db", StringComparison.Ordinal));
        Assert.Contains("libvirt_domains{state=\"shutoff\"} 1", lines);
        Assert.Contains("libvirt_domains{state=\"running\"} 1", lines);
    }

    internal static string Render(IReadOnlyList<DomainSample> samples)
    {
        var registry = new TestRegistry();
        new DomainMetrics(registry.Metrics).Update(samples);
        return registry.ExposeAsync().GetAwaiter().GetResult();
    }
}

/// <summary>The series of domains across scrapes: what goes, what comes back, and counters whose source restarted.</summary>
public class DomainSeriesTests
{
    private readonly TestRegistry _registry = new();
    private readonly DomainMetrics _metrics;

    public DomainSeriesTests() => _metrics = new DomainMetrics(_registry.Metrics);

    private static DomainSample Domain(string name, double cpuNanoseconds, params string[] interfaces) => new(
        name, $"uuid-{name}", State: 1, StateReason: 1, cpuNanoseconds, double.NaN, double.NaN, VcpuCurrent: 1,
        [new VcpuSample(0, cpuNanoseconds)], 1024, 1024, double.NaN,
        [.. interfaces.Select(i => new InterfaceSample(i, cpuNanoseconds, 1, 0, 0, 2, 2, 0, 0))], []);

    private async Task<string[]> ScrapeAsync(params DomainSample[] domains)
    {
        _metrics.Update(domains);
        return (await _registry.ExposeAsync()).Split('\n');
    }

    [Fact]
    public async Task A_domain_that_is_gone_is_gone_from_the_next_scrape_with_all_its_series()
    {
        await ScrapeAsync(Domain("web1", 5e9, "vnet0"), Domain("web2", 7e9, "vnet1"));

        var lines = await ScrapeAsync(Domain("web1", 6e9, "vnet0"));

        Assert.DoesNotContain(lines, l => l.Contains("web2", StringComparison.Ordinal));
        Assert.Contains("libvirt_domain_cpu_time_seconds_total{domain=\"web1\"} 6", lines);
        Assert.Contains("libvirt_domains{state=\"running\"} 1", lines);
    }

    [Fact]
    public async Task An_interface_that_is_gone_is_gone_and_the_domain_stays()
    {
        await ScrapeAsync(Domain("web1", 5e9, "vnet0", "vnet9"));

        var lines = await ScrapeAsync(Domain("web1", 6e9, "vnet0"));

        Assert.DoesNotContain(lines, l => l.Contains("vnet9", StringComparison.Ordinal));
        Assert.Contains("libvirt_domain_interface_receive_bytes_total{domain=\"web1\",interface=\"vnet0\"} 6000000000", lines);
    }

    [Fact]
    public async Task A_counter_whose_domain_restarted_is_exported_as_its_new_value()
    {
        await ScrapeAsync(Domain("web1", 500e9, "vnet0"));

        var lines = await ScrapeAsync(Domain("web1", 2e9, "vnet0")); // restarted, or back home after a migration

        Assert.Contains("libvirt_domain_cpu_time_seconds_total{domain=\"web1\"} 2", lines);
        Assert.Contains("libvirt_domain_vcpu_time_seconds_total{domain=\"web1\",vcpu=\"0\"} 2", lines);
        Assert.Contains("libvirt_domain_interface_receive_bytes_total{domain=\"web1\",interface=\"vnet0\"} 2000000000", lines);
        Assert.Single(lines, l => l.StartsWith("libvirt_domain_cpu_time_seconds_total{", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_domain_whose_uuid_changed_has_one_info_series_with_the_new_uuid()
    {
        await ScrapeAsync(Domain("web1", 1e9));

        var lines = await ScrapeAsync(Domain("web1", 1e9) with { Uuid = "uuid-new" });

        Assert.Equal(["libvirt_domain_info{domain=\"web1\",uuid=\"uuid-new\"} 1"],
            lines.Where(l => l.StartsWith("libvirt_domain_info{", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_value_libvirt_stops_reporting_is_left_out_not_held()
    {
        await ScrapeAsync(Domain("web1", 1e9) with { BalloonRssKibibytes = 100 });

        var lines = await ScrapeAsync(Domain("web1", 1e9));

        Assert.DoesNotContain(lines, l => l.StartsWith("libvirt_domain_memory_rss_bytes{", StringComparison.Ordinal));
    }
}

public class GoldenExpositionTests
{
    private static readonly string s_golden = Path.Combine(Repo.Root, "tests", "Exporter.Tests", "Fixtures", "golden", "metrics.prom");

    /// <summary>Every collector on fixtures: a 32-CPU KVM host and two domains, behind the scraper (without its
    /// collector durations, which differ at each run). Set UPDATE_GOLDEN=1 to rewrite.</summary>
    internal static async Task<string> RenderFixturesAsync()
    {
        var procfs = Fixtures.Path("procfs-32cpu-kvm");
        var records = VirshDomstats.Parse(Fixtures.Read("domstats", "two-domains.txt"), name => name == "web1"
            ? "0f3c8a52-6c1e-4f5b-9d3a-7e2b1c4d5e6f"
            : "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d");
        var registry = new TestRegistry();
        ICollector[] collectors =
        [
            new CpuCollector(procfs, 100, registry.Metrics),
            new MemoryCollector(procfs, registry.Metrics),
            new LoadCollector(procfs, registry.Metrics),
            new LibvirtCollector(new FakeDomainStatsSource(records), "test:///fixture", registry.Metrics, NullLogger<LibvirtCollector>.Instance),
        ];
        foreach (var c in collectors)
        {
            Assert.True(await c.CollectAsync(new ScrapeContext(TimeSpan.FromSeconds(1)), CancellationToken.None));
        }

        return await registry.ExposeAsync();
    }

    [Fact]
    public async Task Fixtures_render_exactly_the_golden_file()
    {
        var actual = await RenderFixturesAsync();
        if (Environment.GetEnvironmentVariable("UPDATE_GOLDEN") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(s_golden)!);
            await File.WriteAllTextAsync(s_golden, actual);
        }

        Assert.Equal(await File.ReadAllTextAsync(s_golden), actual);
    }

    [Fact]
    public async Task Promtool_accepts_the_golden_file()
    {
        await Tool.AssertPromtoolAcceptsMetricsAsync(await File.ReadAllTextAsync(s_golden));
    }
}

public class ScraperTests
{
    private static readonly ScrapeContext s_context = new(TimeSpan.FromMilliseconds(300));

    private static Scraper NewScraper(TestRegistry registry, IDomainStatsSource source) => new(
        [
            new LoadCollector(Fixtures.Path("procfs-2cpu"), registry.Metrics),
            new LibvirtCollector(source, "test:///fake", registry.Metrics, NullLogger<LibvirtCollector>.Instance),
        ],
        registry.Metrics,
        NullLogger<Scraper>.Instance,
        TimeProvider.System);

    [Fact]
    public async Task Libvirt_past_its_deadline_still_serves_host_metrics_with_libvirt_up_0()
    {
        var hung = new TaskCompletionSource<IReadOnlyList<DomainStatsRecord>>();
        var registry = new TestRegistry();
        var scraper = NewScraper(registry, new FakeDomainStatsSource(_ => hung.Task));

        await scraper.ScrapeAsync(s_context);
        var text = await registry.ExposeAsync();

        Assert.Contains("\nlibvirt_up 0\n", text, StringComparison.Ordinal);
        Assert.Contains("\nhypervisor_load1 ", text, StringComparison.Ordinal);
        Assert.Contains("hypervisor_scrape_collector_success{collector=\"libvirt\"} 0\n", text, StringComparison.Ordinal);
        Assert.Contains("hypervisor_scrape_collector_success{collector=\"loadavg\"} 1\n", text, StringComparison.Ordinal);
        await Tool.AssertPromtoolAcceptsMetricsAsync(text);
    }

    [Fact]
    public async Task Libvirt_gone_takes_the_domains_out_of_the_exposition()
    {
        IReadOnlyList<DomainStatsRecord> records = VirshDomstats.Parse(Fixtures.Read("domstats", "two-domains.txt"));
        var up = true;
        var registry = new TestRegistry();
        var scraper = NewScraper(registry, new FakeDomainStatsSource(_ =>
            up ? Task.FromResult(records) : Task.FromException<IReadOnlyList<DomainStatsRecord>>(new LibvirtException("gone"))));
        await scraper.ScrapeAsync(s_context);
        Assert.Contains("libvirt_domain_info{", await registry.ExposeAsync(), StringComparison.Ordinal);

        up = false;
        await scraper.ScrapeAsync(s_context);
        var text = await registry.ExposeAsync();

        Assert.Contains("\nlibvirt_up 0\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("libvirt_domain_info{", text, StringComparison.Ordinal);
        Assert.DoesNotContain("libvirt_domains{", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Overlapping_scrapes_share_the_collection_in_flight()
    {
        var release = new TaskCompletionSource<IReadOnlyList<DomainStatsRecord>>();
        var source = new FakeDomainStatsSource(_ => release.Task);
        var scraper = NewScraper(new TestRegistry(), source);

        var first = scraper.ScrapeAsync(new ScrapeContext(TimeSpan.FromSeconds(10)));
        var second = scraper.ScrapeAsync(new ScrapeContext(TimeSpan.FromSeconds(10)));
        release.SetResult([]);

        Assert.Same(first, second);
        await first;
        Assert.Equal(1, source.Calls);
        await scraper.ScrapeAsync(s_context); // once finished, the next scrape collects afresh
        Assert.Equal(2, source.Calls);
    }

    [Fact]
    public async Task A_failing_collector_loses_its_samples_but_not_the_scrape()
    {
        var procfs = Directory.CreateTempSubdirectory("procfs-").FullName;
        try
        {
            File.Copy(Fixtures.Path("procfs-2cpu", "meminfo"), Path.Combine(procfs, "meminfo"));
            var registry = new TestRegistry();
            var scraper = new Scraper(
                [new MemoryCollector(procfs, registry.Metrics), new LoadCollector(Fixtures.Path("procfs-2cpu"), registry.Metrics)],
                registry.Metrics, NullLogger<Scraper>.Instance, TimeProvider.System);
            await scraper.ScrapeAsync(s_context);
            Assert.Contains("hypervisor_memory_total_bytes", await registry.ExposeAsync(), StringComparison.Ordinal);

            File.Delete(Path.Combine(procfs, "meminfo"));
            await scraper.ScrapeAsync(s_context);
            var text = await registry.ExposeAsync();

            Assert.DoesNotContain("\nhypervisor_memory_total_bytes ", text, StringComparison.Ordinal); // HELP and TYPE alone stay
            Assert.Contains("hypervisor_scrape_collector_success{collector=\"meminfo\"} 0\n", text, StringComparison.Ordinal);
            Assert.Contains("\nhypervisor_load5 ", text, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(procfs, recursive: true);
        }
    }
}

internal static class Repo
{
    public static string Root => RepositoryRoot.Path;
}
