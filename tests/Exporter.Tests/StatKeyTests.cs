using System.Text;
using Loadshift.Exporter.Libvirt;

namespace Loadshift.Exporter.Tests;

public class StatKeyTests
{
    [Theory]
    [InlineData("state.state", nameof(StatKey.StateState), -1)]
    [InlineData("state.reason", nameof(StatKey.StateReason), -1)]
    [InlineData("cpu.time", nameof(StatKey.CpuTime), -1)]
    [InlineData("cpu.system", nameof(StatKey.CpuSystem), -1)]
    [InlineData("vcpu.current", nameof(StatKey.VcpuCurrent), -1)]
    [InlineData("balloon.rss", nameof(StatKey.BalloonRss), -1)]
    [InlineData("vcpu.0.time", nameof(StatKey.VcpuTime), 0)]
    [InlineData("vcpu.127.time", nameof(StatKey.VcpuTime), 127)]
    [InlineData("vcpu.01.time", nameof(StatKey.VcpuTime), 1)] // libvirt never pads; digits are digits
    [InlineData("net.0.name", nameof(StatKey.NetName), 0)]
    [InlineData("net.0.rx.bytes", nameof(StatKey.NetReceiveBytes), 0)]
    [InlineData("net.3.rx.drop", nameof(StatKey.NetReceiveDrops), 3)]
    [InlineData("net.10.tx.drop", nameof(StatKey.NetTransmitDrops), 10)]
    [InlineData("block.0.name", nameof(StatKey.BlockName), 0)]
    [InlineData("block.2.rd.reqs", nameof(StatKey.BlockReadRequests), 2)]
    [InlineData("block.2.wr.bytes", nameof(StatKey.BlockWriteBytes), 2)]
    public void Keys_the_exporter_reads(string key, string expected, int expectedIndex)
    {
        Assert.Equal((Enum.Parse<StatKey>(expected), expectedIndex), (StatKeys.Parse(key, out var index), index));
    }

    [Theory]
    [InlineData("")]
    [InlineData("vcpu.maximum")]
    [InlineData("vcpu.0.state")]
    [InlineData("vcpu.0.wait")]
    [InlineData("vcpu.")]
    [InlineData("vcpu..time")]
    [InlineData("vcpu.x.time")]
    [InlineData("vcpu.-1.time")]
    [InlineData("vcpu.+1.time")]
    [InlineData("vcpu. 1.time")]
    [InlineData("vcpu.1 .time")]
    [InlineData("vcpu.99999999999.time")] // past int.MaxValue
    [InlineData("vcpu.0.time.extra")]
    [InlineData("vcpu.0time")]
    [InlineData("net.count")]
    [InlineData("net.0")]
    [InlineData("net.0.")]
    [InlineData("net.0.rx")]
    [InlineData("net.0.RX.BYTES")]
    [InlineData("NET.0.rx.bytes")]
    [InlineData("net.0.rx.bytes ")]
    [InlineData("block.count")]
    [InlineData("block.0.path")]
    [InlineData("block.0.rd.times")]
    [InlineData("block.0.backingIndex")]
    [InlineData("cpu.time.extra")]
    [InlineData("cpu.haltpoll.success.time")]
    [InlineData("balloon.last-update")]
    [InlineData("state")]
    public void Other_and_odd_keys_are_other_without_an_index(string key)
    {
        Assert.Equal((StatKey.Other, -1), (StatKeys.Parse(key, out var index), index));
    }
}

public class DomainSampleMappingTests
{
    private static DomainStatsRecord Record(params (string Key, object Value)[] stats) => new(
        "vm", "uuid",
        [.. stats.Select(s => new KeyValuePair<string, StatValue>(
            s.Key, s.Value is string text ? StatValue.Of(text) : StatValue.Of(Convert.ToDouble(s.Value, System.Globalization.CultureInfo.InvariantCulture))))]);

    [Fact]
    public void A_domain_with_no_stats_has_nan_values_state_0_and_no_groups()
    {
        var sample = DomainSample.From(Record());

        Assert.Equal((0, 0), (sample.State, sample.StateReason));
        Assert.True(double.IsNaN(sample.CpuTimeNanoseconds) && double.IsNaN(sample.VcpuCurrent) && double.IsNaN(sample.BalloonRssKibibytes));
        Assert.Empty(sample.Vcpus);
        Assert.Empty(sample.Interfaces);
        Assert.Empty(sample.Blocks);
    }

    [Fact]
    public void Counters_libvirt_left_out_are_nan()
    {
        var sample = DomainSample.From(Record(("net.0.name", "vnet0"), ("net.0.rx.bytes", 5), ("block.0.name", "vda"), ("block.0.wr.reqs", 7)));

        var net = Assert.Single(sample.Interfaces);
        Assert.Equal(("vnet0", 5d), (net.Name, net.ReceiveBytes));
        Assert.All([net.ReceivePackets, net.ReceiveErrors, net.ReceiveDrops, net.TransmitBytes, net.TransmitPackets, net.TransmitErrors, net.TransmitDrops],
            v => Assert.True(double.IsNaN(v)));
        var block = Assert.Single(sample.Blocks);
        Assert.Equal(("vda", 7d), (block.Name, block.WriteRequests));
        Assert.All([block.ReadRequests, block.ReadBytes, block.WriteBytes], v => Assert.True(double.IsNaN(v)));
    }

    [Fact]
    public void Groups_come_in_index_order_whatever_order_the_keys_came_in()
    {
        var sample = DomainSample.From(Record(
            ("vcpu.1.time", 11), ("block.1.rd.reqs", 21), ("net.1.name", "vnet1"), ("vcpu.0.time", 10),
            ("block.0.name", "vda"), ("net.0.tx.bytes", 300), ("block.1.name", "vdb"), ("net.1.tx.bytes", 301),
            ("block.0.rd.reqs", 20), ("net.0.name", "vnet0")));

        Assert.Equal([new VcpuSample(0, 10), new VcpuSample(1, 11)], sample.Vcpus);
        Assert.Equal([("vnet0", 300d), ("vnet1", 301d)], sample.Interfaces.Select(n => (n.Name, n.TransmitBytes)));
        Assert.Equal([("vda", 20d), ("vdb", 21d)], sample.Blocks.Select(b => (b.Name, b.ReadRequests)));
    }

    [Fact]
    public void Indices_with_gaps_keep_their_own_numbers()
    {
        var sample = DomainSample.From(Record(
            ("vcpu.current", 3), ("vcpu.0.time", 1), ("vcpu.2.time", 3), ("vcpu.7.time", 8),
            ("net.1.name", "vnet1"), ("net.1.rx.bytes", 9),
            ("block.0.name", "vda"), ("block.3.name", "vdd"), ("block.3.wr.bytes", 4096)));

        Assert.Equal([0, 2, 7], sample.Vcpus.Select(v => v.Index));
        Assert.Equal(("vnet1", 9d), (Assert.Single(sample.Interfaces).Name, sample.Interfaces[0].ReceiveBytes));
        Assert.Equal(["vda", "vdd"], sample.Blocks.Select(b => b.Name));
        Assert.Equal(4096, sample.Blocks[1].WriteBytes);
    }

    [Fact]
    public void Many_vcpus_in_reverse_order_are_sorted()
    {
        var sample = DomainSample.From(Record([.. Enumerable.Range(0, 300).Reverse().Select(i => ($"vcpu.{i}.time", (object)(i * 10)))]));

        Assert.Equal(Enumerable.Range(0, 300), sample.Vcpus.Select(v => v.Index));
        Assert.All(sample.Vcpus, v => Assert.Equal(v.Index * 10, v.TimeNanoseconds));
    }

    [Fact]
    public void An_interface_or_device_without_a_name_is_left_out()
    {
        var sample = DomainSample.From(Record(
            ("net.0.rx.bytes", 1), ("net.1.name", "vnet1"), ("block.0.rd.reqs", 2), ("block.0.path", "/srv/x.qcow2"),
            ("net.2.name", 3))); // a number where a name belongs gives no name

        Assert.Equal("vnet1", Assert.Single(sample.Interfaces).Name);
        Assert.Empty(sample.Blocks);
    }

    [Fact]
    public void A_vcpu_without_a_time_is_left_out()
    {
        var sample = DomainSample.From(Record(("vcpu.0.state", 1), ("vcpu.0.wait", 0), ("vcpu.1.time", 5)));

        Assert.Equal([new VcpuSample(1, 5)], sample.Vcpus);
    }

    [Fact]
    public void Odd_keys_are_ignored_and_a_repeated_key_keeps_its_last_value()
    {
        var sample = DomainSample.From(Record(
            ("vcpu.x.time", 1), ("vcpu..time", 2), ("vcpu.-1.time", 3), ("net..name", "bad"), ("block.a.name", "bad"),
            ("net.0", 4), ("cpu.time.extra", 5), ("cpu.time", 6), ("cpu.time", 7), ("vcpu.0.time", 8), ("vcpu.0.time", 9),
            ("net.0.name", "first"), ("net.0.name", "second")));

        Assert.Equal(7, sample.CpuTimeNanoseconds);
        Assert.Equal([new VcpuSample(0, 9)], sample.Vcpus);
        Assert.Equal("second", Assert.Single(sample.Interfaces).Name);
        Assert.Empty(sample.Blocks);
    }

    [Fact]
    public void One_domain_leaves_nothing_behind_for_the_next()
    {
        _ = DomainSample.From(Record(("vcpu.0.time", 1), ("vcpu.1.time", 2), ("net.0.name", "vnet0"), ("block.0.name", "vda")));
        var next = DomainSample.From(Record(("vcpu.0.time", 3)));

        Assert.Equal([new VcpuSample(0, 3)], next.Vcpus);
        Assert.Empty(next.Interfaces);
        Assert.Empty(next.Blocks);
    }

    [Fact]
    public void Labels_of_vcpus_interfaces_and_devices_stay_with_their_domain()
    {
        var first = DomainSample.From(new DomainStatsRecord("a", "u1", [
            new("vcpu.0.time", StatValue.Of(1e9)), new("vcpu.2.time", StatValue.Of(2e9)),
            new("net.0.name", StatValue.Of("vnet0")), new("net.0.rx.bytes", StatValue.Of(10)),
            new("net.1.name", StatValue.Of("vnet1")), new("net.1.rx.bytes", StatValue.Of(11)),
            new("block.0.name", StatValue.Of("vda")), new("block.0.rd.reqs", StatValue.Of(20)),
            new("block.1.name", StatValue.Of("vdb")), new("block.1.rd.reqs", StatValue.Of(21)),
            new("block.4.name", StatValue.Of("vde")), new("block.4.rd.reqs", StatValue.Of(24)),
        ]));
        var second = DomainSample.From(new DomainStatsRecord("b", "u2", [
            new("vcpu.5.time", StatValue.Of(5e9)), new("net.0.name", StatValue.Of("vnet9")), new("net.0.rx.bytes", StatValue.Of(90)),
            new("block.0.name", StatValue.Of("sda")), new("block.0.rd.reqs", StatValue.Of(30)),
        ]));

        var lines = DomainSampleTests.Render([first, second]).Split('\n');

        Assert.Equal(
            [
                "libvirt_domain_vcpu_time_seconds_total{domain=\"a\",vcpu=\"0\"} 1",
                "libvirt_domain_vcpu_time_seconds_total{domain=\"a\",vcpu=\"2\"} 2",
                "libvirt_domain_vcpu_time_seconds_total{domain=\"b\",vcpu=\"5\"} 5",
            ],
            lines.Where(l => l.StartsWith("libvirt_domain_vcpu_time_seconds_total{", StringComparison.Ordinal)));
        Assert.Equal(
            [
                "libvirt_domain_interface_receive_bytes_total{domain=\"a\",interface=\"vnet0\"} 10",
                "libvirt_domain_interface_receive_bytes_total{domain=\"a\",interface=\"vnet1\"} 11",
                "libvirt_domain_interface_receive_bytes_total{domain=\"b\",interface=\"vnet9\"} 90",
            ],
            lines.Where(l => l.StartsWith("libvirt_domain_interface_receive_bytes_total{", StringComparison.Ordinal)));
        Assert.Equal(
            [
                "libvirt_domain_block_read_requests_total{domain=\"a\",device=\"vda\"} 20",
                "libvirt_domain_block_read_requests_total{domain=\"a\",device=\"vdb\"} 21",
                "libvirt_domain_block_read_requests_total{domain=\"a\",device=\"vde\"} 24",
                "libvirt_domain_block_read_requests_total{domain=\"b\",device=\"sda\"} 30",
            ],
            lines.Where(l => l.StartsWith("libvirt_domain_block_read_requests_total{", StringComparison.Ordinal)));
    }
}

public class FieldNamesTests
{
    private static byte[] Field(string name)
    {
        var field = new byte[VirTypedParameter.FieldLength];
        Encoding.UTF8.GetBytes(name, field);
        return field;
    }

    [Fact]
    public void A_name_seen_again_is_the_same_string()
    {
        var names = new FieldNames();

        var first = names.Get(Field("net.0.rx.bytes"));
        var again = names.Get(Field("net.0.rx.bytes"));

        Assert.Equal("net.0.rx.bytes", first);
        Assert.Same(first, again);
        Assert.Equal("net.0.tx.bytes", names.Get(Field("net.0.tx.bytes")));
        Assert.Equal(2, names.Count);
    }

    [Fact]
    public void The_name_ends_at_the_first_nul_or_at_the_end_of_the_field()
    {
        var names = new FieldNames();
        var padded = Field("cpu.time");
        "garbage"u8.CopyTo(padded.AsSpan(20)); // what libvirt leaves past the NUL is not part of the name
        var full = Enumerable.Repeat((byte)'x', VirTypedParameter.FieldLength).ToArray();

        Assert.Equal("cpu.time", names.Get(padded));
        Assert.Equal(new string('x', VirTypedParameter.FieldLength), names.Get(full));
        Assert.Equal("", names.Get(new byte[VirTypedParameter.FieldLength]));
    }

    [Fact]
    public unsafe void Names_decode_as_marshal_does_also_when_not_ascii_or_not_utf8()
    {
        var names = new FieldNames();
        byte[][] fields = [Field("block.0.nämé"), [0x62, 0xff, 0xc3, 0x2e, 0x74, 0]];

        foreach (var field in fields)
        {
            fixed (byte* p = field)
            {
                Assert.Equal(System.Runtime.InteropServices.Marshal.PtrToStringUTF8((nint)p), names.Get(field));
            }
        }
    }

    [Fact]
    public void Past_the_bound_names_are_still_right_but_not_kept()
    {
        var names = new FieldNames();
        for (var i = 0; i < FieldNames.MostKept + 10; i++)
        {
            Assert.Equal($"block.{i}.name", names.Get(Field($"block.{i}.name")));
        }

        Assert.Equal(FieldNames.MostKept, names.Count);
        Assert.Equal("block.0.name", names.Get(Field("block.0.name")));
    }
}
