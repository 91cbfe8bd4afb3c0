using Loadshift.Exporter.Collectors;
using Loadshift.Exporter.Libvirt;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loadshift.Exporter.Tests;

/// <summary>--collector.libvirt.slow-groups-interval: the vCPU and block groups asked of libvirt once per interval
/// and served from the last ask in between, the other groups asked at every collection; no domain's series
/// missing or left over.</summary>
public class SlowGroupsCacheTests
{
    private const StatsGroups Fresh = StatsGroups.All & ~SlowGroupsCache.Slow;

    private static readonly TimeSpan s_interval = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(5);

    private readonly ManualClock _clock = new();
    private readonly FakeHost _host = new();
    private readonly SlowGroupsCache _cache;

    public SlowGroupsCacheTests()
    {
        _host.Start("vm1");
        _cache = new SlowGroupsCache(_host, s_interval, _clock);
    }

    private async Task<Dictionary<string, DomainSample>> CollectAsync(TimeSpan after = default)
    {
        _clock.Advance(after);
        var records = await _cache.GetAllDomainStatsAsync(StatsGroups.All, s_deadline, CancellationToken.None);
        return records.Select(DomainSample.From).ToDictionary(d => d.Name);
    }

    [Fact]
    public async Task The_slow_groups_are_asked_once_per_interval_and_the_others_at_every_collection()
    {
        await CollectAsync();
        await CollectAsync(TimeSpan.FromSeconds(15));
        await CollectAsync(TimeSpan.FromSeconds(14.9));
        await CollectAsync(TimeSpan.FromSeconds(0.1)); // 30 s after the first
        await CollectAsync(TimeSpan.FromSeconds(15));

        Assert.Equal([StatsGroups.All, Fresh, Fresh, StatsGroups.All, Fresh], _host.Asked);
    }

    [Fact]
    public async Task Between_asks_the_slow_groups_keep_their_values_and_the_others_are_new()
    {
        await CollectAsync(); // call 1: every group
        var vm1 = (await CollectAsync(TimeSpan.FromSeconds(15)))["vm1"]; // call 2: the fresh groups alone

        Assert.Equal(FakeHost.Seconds(1), Assert.Single(vm1.Vcpus).TimeNanoseconds);
        Assert.Equal(1, vm1.VcpuCurrent);
        Assert.Equal(1, Assert.Single(vm1.Blocks).ReadRequests);
        Assert.Equal("vda", vm1.Blocks[0].Name);
        Assert.Equal(2, Assert.Single(vm1.Interfaces).ReceiveBytes);
        Assert.Equal(FakeHost.Seconds(2), vm1.CpuTimeNanoseconds);

        var later = (await CollectAsync(TimeSpan.FromSeconds(15)))["vm1"]; // call 3: every group again
        Assert.Equal(FakeHost.Seconds(3), Assert.Single(later.Vcpus).TimeNanoseconds);
        Assert.Equal(3, Assert.Single(later.Blocks).ReadRequests);
    }

    [Fact]
    public async Task A_domain_that_is_gone_is_gone_and_its_kept_groups_with_it()
    {
        _host.Start("vm2");
        await CollectAsync();

        _host.Stop("vm2");
        var domains = await CollectAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(["vm1"], domains.Keys);
        _host.Start("vm2"); // back (a migration home): a new run, not the one the cache held
        var back = (await CollectAsync(TimeSpan.FromSeconds(10)))["vm2"];
        Assert.Equal(FakeHost.Seconds(4), Assert.Single(back.Vcpus).TimeNanoseconds); // call 4, not call 1
        Assert.Equal([StatsGroups.All, Fresh, Fresh, SlowGroupsCache.Slow], _host.Asked);
    }

    [Fact]
    public async Task A_new_domain_has_its_slow_groups_in_the_collection_that_first_sees_it()
    {
        await CollectAsync();
        _host.Start("vm3");

        var domains = await CollectAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(FakeHost.Seconds(3), Assert.Single(domains["vm3"].Vcpus).TimeNanoseconds);
        Assert.Equal(3, Assert.Single(domains["vm3"].Blocks).ReadRequests);
        Assert.Equal(FakeHost.Seconds(3), Assert.Single(domains["vm1"].Vcpus).TimeNanoseconds); // asked for all
        Assert.Equal([StatsGroups.All, Fresh, SlowGroupsCache.Slow], _host.Asked);
        await CollectAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(Fresh, _host.Asked[^1]);
    }

    [Theory]
    [InlineData("restarted")] // destroyed and started between two collections: its CPU time starts again
    [InlineData("paused")]
    [InlineData("new uuid")] // undefined and defined again under the same name
    public async Task A_domain_run_anew_has_its_slow_groups_asked_again_at_once(string change)
    {
        await CollectAsync();
        await CollectAsync(TimeSpan.FromSeconds(10));
        switch (change)
        {
            case "restarted": _host.Start("vm1"); break;
            case "paused": _host.Domains["vm1"].State = 3; break;
            default: _host.Domains["vm1"].Uuid = "uuid-new"; break;
        }

        var vm1 = (await CollectAsync(TimeSpan.FromSeconds(10)))["vm1"];

        Assert.Equal([StatsGroups.All, Fresh, Fresh, SlowGroupsCache.Slow], _host.Asked);
        Assert.Equal(FakeHost.Seconds(4), Assert.Single(vm1.Vcpus).TimeNanoseconds);
    }

    [Fact]
    public async Task A_slow_call_that_hangs_costs_the_deadline_not_the_scrape()
    {
        await CollectAsync();
        _host.Start("vm3");
        _host.HangOn = SlowGroupsCache.Slow; // vm3's QEMU monitor never answers
        var registry = new TestRegistry();
        var collector = new LibvirtCollector(_cache, "test:///fake", registry.Metrics, NullLogger<LibvirtCollector>.Instance, s_interval);

        var collected = await collector.CollectAsync(new ScrapeContext(TimeSpan.FromMilliseconds(200)), CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(5));

        Assert.False(collected);
        Assert.Contains("\nlibvirt_up 0\n", await registry.ExposeAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_exposition_serves_the_kept_values_and_says_how_old_they_can_be()
    {
        var registry = new TestRegistry();
        var collector = new LibvirtCollector(_cache, "test:///fake", registry.Metrics, NullLogger<LibvirtCollector>.Instance, s_interval);
        var context = new ScrapeContext(s_deadline);
        Assert.True(await collector.CollectAsync(context, CancellationToken.None));
        _clock.Advance(TimeSpan.FromSeconds(15));
        Assert.True(await collector.CollectAsync(context, CancellationToken.None));

        var lines = (await registry.ExposeAsync()).Split('\n');

        Assert.Contains("libvirt_domain_vcpu_time_seconds_total{domain=\"vm1\",vcpu=\"0\"} 1", lines);
        Assert.Contains("libvirt_domain_block_read_requests_total{domain=\"vm1\",device=\"vda\"} 1", lines);
        Assert.Contains("libvirt_domain_interface_receive_bytes_total{domain=\"vm1\",interface=\"vnet0\"} 2", lines);
        Assert.Contains("libvirt_domain_cpu_time_seconds_total{domain=\"vm1\"} 2", lines);
        foreach (var family in new[] { "libvirt_domain_vcpus", "libvirt_domain_vcpu_time_seconds_total", "libvirt_domain_block_write_bytes_total" })
        {
            Assert.Contains(lines, l => l.StartsWith($"# HELP {family} ", StringComparison.Ordinal) &&
                                        l.EndsWith("at most every 30 s (--collector.libvirt.slow-groups-interval): up to that old.", StringComparison.Ordinal));
        }

        Assert.DoesNotContain(lines, l => l.StartsWith("# HELP libvirt_domain_cpu_time_seconds_total ", StringComparison.Ordinal) &&
                                          l.Contains("slow-groups-interval", StringComparison.Ordinal));
    }

    /// <summary>libvirt as the bulk stats call sees it: the groups asked of each running domain, every counter at
    /// the number of the call that read it (call n: n seconds of CPU and vCPU time, n bytes, n requests).</summary>
    private sealed class FakeHost : IDomainStatsSource
    {
        private int _calls;

        public Dictionary<string, Domain> Domains { get; } = [];

        public List<StatsGroups> Asked { get; } = [];

        /// <summary>Calls asking for any of these groups never answer.</summary>
        public StatsGroups HangOn { get; set; }

        public static double Seconds(int call) => call * 1e9;

        /// <summary>Starts the domain, or starts it again: a new run, whose CPU time begins at 0.</summary>
        public void Start(string name)
        {
            Domains[name] = new Domain { Uuid = $"uuid-{name}", CpuOffset = _calls };
        }

        public void Stop(string name) => Domains.Remove(name);

        public async Task<IReadOnlyList<DomainStatsRecord>> GetAllDomainStatsAsync(
            StatsGroups groups, TimeSpan deadline, CancellationToken cancellationToken)
        {
            Asked.Add(groups);
            var call = ++_calls;
            if ((groups & HangOn) != 0)
            {
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken).WaitAsync(deadline, cancellationToken);
                }
                catch (TimeoutException e)
                {
                    throw new LibvirtException("fake libvirt did not answer in time", e);
                }
            }

            return [.. Domains.Select(d => Record(d.Key, d.Value, groups, call))];
        }

        private static DomainStatsRecord Record(string name, Domain domain, StatsGroups groups, int call)
        {
            var stats = new List<KeyValuePair<string, StatValue>>();
            void Add(StatsGroups group, string key, double value)
            {
                if ((groups & group) != 0)
                {
                    stats.Add(new(key, StatValue.Of(value)));
                }
            }

            Add(StatsGroups.State, "state.state", domain.State);
            Add(StatsGroups.State, "state.reason", 1);
            Add(StatsGroups.CpuTotal, "cpu.time", Seconds(call - domain.CpuOffset));
            Add(StatsGroups.Balloon, "balloon.current", 131072);
            Add(StatsGroups.Vcpu, "vcpu.current", 1);
            Add(StatsGroups.Vcpu, "vcpu.0.time", Seconds(call));
            Add(StatsGroups.Interface, "net.count", 1);
            Add(StatsGroups.Block, "block.count", 1);
            Add(StatsGroups.Block, "block.0.rd.reqs", call);
            if ((groups & StatsGroups.Interface) != 0)
            {
                stats.Add(new("net.0.name", StatValue.Of("vnet0")));
                Add(StatsGroups.Interface, "net.0.rx.bytes", call);
            }

            if ((groups & StatsGroups.Block) != 0)
            {
                stats.Add(new("block.0.name", StatValue.Of("vda")));
            }

            return new DomainStatsRecord(name, domain.Uuid, stats);
        }

        public sealed class Domain
        {
            public required string Uuid { get; set; }

            public int State { get; set; } = 1;

            /// <summary>Calls made before this run started: its CPU time counts from there.</summary>
            public int CpuOffset { get; init; }
        }
    }
}
