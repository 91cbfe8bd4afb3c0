using System.Net;

namespace Loadshift.Exporter.Tests;

public class OptionsTests
{
    [Fact]
    public void Defaults_follow_node_exporter_and_libvirt()
    {
        var o = ExporterOptions.Parse([]);

        Assert.Equal(":10179", o.ListenAddress);
        Assert.Equal("/proc", o.Procfs);
        Assert.Equal("qemu:///system", o.LibvirtUri);
        Assert.Empty(o.DisabledCollectors);
        Assert.Equal(TimeSpan.Zero, o.LibvirtSlowGroupsInterval);
    }

    [Theory]
    [InlineData("--collector.libvirt.slow-groups-interval=30s", 30)]
    [InlineData("--collector.libvirt.slow-groups-interval=1m", 60)]
    [InlineData("--collector.libvirt.slow-groups-interval=0s", 0)]
    public void The_slow_groups_interval_is_a_duration_and_0s_is_every_scrape(string arg, double seconds)
    {
        var o = ExporterOptions.Parse(["--no-collector.libvirt", arg, "--collector.libvirt"]);

        Assert.Equal(TimeSpan.FromSeconds(seconds), o.LibvirtSlowGroupsInterval);
        Assert.Empty(o.DisabledCollectors);
    }

    [Fact]
    public void Both_flag_forms_are_understood()
    {
        var o = ExporterOptions.Parse(
            ["--web.listen-address=127.0.0.1:9999", "--path.procfs", "/host/proc", "--libvirt.uri=test:///default",
             "--libvirt.timeout", "800ms", "--no-collector.libvirt", "--no-collector.loadavg", "--collector.loadavg"]);

        Assert.Equal("127.0.0.1:9999", o.ListenAddress);
        Assert.Equal("/host/proc", o.Procfs);
        Assert.Equal("test:///default", o.LibvirtUri);
        Assert.Equal(TimeSpan.FromMilliseconds(800), o.LibvirtTimeout);
        Assert.Equal(["libvirt"], o.DisabledCollectors);
    }

    [Theory]
    [InlineData("--web.listen-adress=:1", "unknown flag --web.listen-adress=:1")]
    [InlineData("--no-collector.diskstats", "no collector 'diskstats'")]
    [InlineData("--web.listen-address=localhost", "'localhost' is not HOST:PORT")]
    [InlineData("--web.listen-address=:70000", "':70000' is not HOST:PORT")]
    [InlineData("--web.listen-address=example.org:80", "'example.org' is not an IP address")]
    [InlineData("--web.listen-address=::1:8080", "'::1:8080': write an IPv6 address in brackets, as [::1]:8080")]
    [InlineData("--web.listen-address=[127.0.0.1]:8080", "'[127.0.0.1]' is an IPv4 address: write it without brackets")]
    [InlineData("--web.listen-address=[::1]", "'[::1]' is not HOST:PORT")]
    [InlineData("--web.listen-address=:0", "':0' is not HOST:PORT")]
    [InlineData("--libvirt.timeout=soon", "'soon' is not a duration")]
    [InlineData("--collector.libvirt.slow-groups-interval=often", "'often' is not a duration")]
    [InlineData("--path.procfs", "flag --path.procfs needs a value")]
    [InlineData("--version=1", "flag --version takes no value")]
    public void Unknown_or_malformed_flags_are_named_in_the_error(string arg, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => ExporterOptions.Parse([arg]));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(":10179", "[::]:10179")]
    [InlineData("127.0.0.1:8080", "127.0.0.1:8080")]
    [InlineData("[::1]:8080", "[::1]:8080")]
    [InlineData("localhost:8080", "127.0.0.1:8080")]
    public void Listen_addresses(string text, string expected)
    {
        Assert.Equal(IPEndPoint.Parse(expected), ExporterOptions.ParseListenAddress(text));
    }
}
