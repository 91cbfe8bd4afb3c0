using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Loadshift.Exporter.Libvirt;

namespace Loadshift.Exporter.Tests;

public class LibvirtBindingTests
{
    [Fact]
    public void Struct_layouts_match_the_libvirt_9_headers_on_x86_64()
    {
        Assert.Equal(96, Unsafe.SizeOf<VirTypedParameter>());
        Assert.Equal(24, Unsafe.SizeOf<VirDomainStatsRecord>());
    }

    [Fact]
    public async Task Test_driver_needs_no_daemon_and_reports_its_domain()
    {
        using var source = new LibvirtStatsSource("test:///default");

        var records = await source.GetAllDomainStatsAsync(StatsGroups.All, TimeSpan.FromSeconds(10), CancellationToken.None);

        var test = Assert.Single(records);
        Assert.Equal("test", test.Name);
        Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", test.Uuid);
        var sample = DomainSample.From(test);
        Assert.Equal(1, sample.State); // the test driver's domain runs
    }

    [Fact]
    public async Task Only_the_groups_asked_for_come_back()
    {
        using var source = new LibvirtStatsSource("test:///default");

        var state = Assert.Single(await source.GetAllDomainStatsAsync(StatsGroups.State, TimeSpan.FromSeconds(10), CancellationToken.None));
        var slow = Assert.Single(await source.GetAllDomainStatsAsync(SlowGroupsCache.Slow, TimeSpan.FromSeconds(10), CancellationToken.None));

        Assert.Equal(["state.reason", "state.state"], state.Stats.Select(kv => kv.Key).Order());
        Assert.Equal("test", slow.Name);
        Assert.Empty(slow.Stats); // libvirt 9.0's test driver has state stats alone; the state group was not asked
    }

    [Fact]
    public async Task The_connection_is_kept_across_collections()
    {
        using var source = new LibvirtStatsSource("test:///default");

        for (var i = 0; i < 3; i++)
        {
            _ = await source.GetAllDomainStatsAsync(StatsGroups.All, TimeSpan.FromSeconds(10), CancellationToken.None);
        }

        Assert.Equal(1, source.Connects);
    }

    [Fact]
    public async Task A_refused_connection_becomes_an_exception_carrying_libvirts_message()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there now

        using var source = new LibvirtStatsSource($"qemu+tcp://127.0.0.1:{port}/system");
        var e = await Assert.ThrowsAsync<LibvirtException>(
            () => source.GetAllDomainStatsAsync(StatsGroups.All, TimeSpan.FromSeconds(10), CancellationToken.None));

        Assert.Contains("virConnectOpenReadOnly", e.Message, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1", e.Message, StringComparison.Ordinal); // libvirt's own words name the host
        Assert.NotEqual(0, e.Code);
    }

    [Fact]
    public async Task A_libvirtd_that_never_answers_costs_one_deadline_and_later_scrapes_wait_on_the_same_call()
    {
        // A TCP server that accepts and then says nothing: a hung libvirtd as the remote driver sees it.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var accepted = listener.AcceptTcpClientAsync();

        using var source = new LibvirtStatsSource($"qemu+tcp://127.0.0.1:{port}/system");
        var started = DateTime.UtcNow;
        var first = await Assert.ThrowsAsync<LibvirtException>(
            () => source.GetAllDomainStatsAsync(StatsGroups.All & ~SlowGroupsCache.Slow, TimeSpan.FromMilliseconds(500), CancellationToken.None));
        var elapsed = DateTime.UtcNow - started;
        // More groups than the hung call asks for: a call of its own, but only after the hung one.
        var second = await Assert.ThrowsAsync<LibvirtException>(
            () => source.GetAllDomainStatsAsync(StatsGroups.All, TimeSpan.FromMilliseconds(200), CancellationToken.None));

        Assert.Contains("did not return domain stats within 0.5 s", first.Message, StringComparison.Ordinal);
        Assert.Contains("within 0.2 s", second.Message, StringComparison.Ordinal);
        Assert.True(elapsed < TimeSpan.FromSeconds(5), $"the first call returned after {elapsed}");
        using var client = await accepted;
        Assert.False(listener.Pending(), "a second connection was opened instead of waiting on the hung call");
        listener.Stop();
    }
}
