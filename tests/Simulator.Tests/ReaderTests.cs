using System.Text;
using Loadshift.Simulator.Inputs;

namespace Loadshift.Simulator.Tests;

/// <summary>The trace and placement readers on bad input: a clear error naming the file and the line.</summary>
public sealed class ReaderTests
{
    private static readonly Dictionary<string, int> Domains = new(StringComparer.Ordinal) { ["vm1"] = 0, ["vm2"] = 1 };

    private static MemoryStream Text(string text) => new MemoryStream(Encoding.UTF8.GetBytes(text));

    private static void ReadAll(string csv)
    {
        using var trace = new TraceFile(Text(csv), "trace.csv", Domains);
        var cpu = new double[2];
        var memory = new long[2];
        while (trace.ReadStep(cpu, memory, out _))
        {
        }
    }

    [Theory]
    [InlineData("seconds,domain,cpu_cores\n0,vm1,1\n0,vm9,1\n", "trace.csv:3: domain 'vm9' is not in the placement")]
    [InlineData("seconds,domain,cpu_cores\n0,vm1,1\n60,vm1,x\n", "trace.csv:3: cpu_cores 'x' is not a non-negative number")]
    [InlineData("seconds,domain,cpu_cores\n0,vm1,1\n60,vm1,-0.5\n", "trace.csv:3: cpu_cores '-0.5' is not a non-negative number")]
    [InlineData("seconds,domain,cpu_cores\n60,vm1,1\n0,vm1,1\n", "trace.csv:3: seconds 0 after 60: the trace must be sorted by seconds")]
    [InlineData("seconds,domain,cpu_cores\n0,vm1,1\n60,vm1,1\n180,vm1,1\n", "trace.csv:4: a step of 120 s after steps of 60 s")]
    [InlineData("seconds,domain,cpu_cores\n0,vm1,1\n0,vm1,2\n", "trace.csv:3: domain 'vm1' appears twice at 0 s (first on line 2)")]
    [InlineData("seconds,domain,cpu_cores\n0,vm1\n", "trace.csv:2: 2 column(s), the header has 3")]
    [InlineData("seconds,domain,cpu\n0,vm1,1\n", "trace.csv:1: the header has no column 'cpu_cores'")]
    [InlineData("seconds,domain,cpu_cores\n0.5,vm1,1\n", "trace.csv:2: seconds '0.5' is not a whole number")]
    public void A_bad_trace_is_refused_naming_the_line(string csv, string expected)
    {
        var e = Assert.Throws<InputException>(() => ReadAll(csv));
        Assert.StartsWith(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_good_trace_gives_each_step_and_keeps_what_a_step_leaves_out()
    {
        using var trace = new TraceFile(Text("seconds,domain,cpu_cores,memory_bytes\n0,vm1,1.5,100\n0,vm2,0.5,\n60,vm2,2,\n"), "trace.csv", Domains);
        var cpu = new double[2];
        var memory = new long[2];
        Assert.True(trace.ReadStep(cpu, memory, out var first));
        Assert.Equal((0L, 1.5, 0.5, 100L), (first, cpu[0], cpu[1], memory[0]));
        Assert.True(trace.ReadStep(cpu, memory, out var second));
        Assert.Equal((60L, 1.5, 2.0), (second, cpu[0], cpu[1]));
        Assert.False(trace.ReadStep(cpu, memory, out _));
    }

    [Theory]
    [InlineData("domain,host\nvm1,hv1\nvm2,hv9\n", "placement.csv:3: host 'hv9' of domain 'vm2' is not in the inventory")]
    [InlineData("domain,host\nvm1,hv1\nvm1,hv2\n", "placement.csv:3: domain 'vm1' is placed twice (first on line 2)")]
    [InlineData("domain,host,memory_bytes\nvm1,hv1,lots\n", "placement.csv:2: memory_bytes 'lots' is not a non-negative number")]
    [InlineData("domain,server\nvm1,hv1\n", "placement.csv:1: the header has no column 'host'")]
    [InlineData("domain,host\n,hv1\n", "placement.csv:2: the domain is empty")]
    [InlineData("domain,host\n", "placement.csv: no domain placed")]
    public void A_bad_placement_is_refused_naming_the_line(string csv, string expected)
    {
        var e = Assert.Throws<InputException>(() => Placement.Read(Text(csv), "placement.csv", ["hv1", "hv2"]));
        Assert.StartsWith(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_placement_reads_memory_in_bytes_also_as_prometheus_writes_it()
    {
        var placement = Placement.Read(Text("domain,host,memory_bytes\nvm1,hv1,2.147483648e+09\nvm2,hv2,1024\n"), "placement.csv", ["hv1", "hv2"]);
        Assert.Equal(["vm1", "vm2"], placement.Domains);
        Assert.Equal([2147483648L, 1024L], placement.MemoryBytes);
    }

    [Fact]
    public void An_inventory_without_libvirt_uris_is_read_and_a_bad_one_names_its_keys()
    {
        var good = InventoryFile.Parse(new StringReader("policy:\n  cooldown: 90s\nhosts:\n  - name: a\n    cpuCapacity: 4\n"), "inv.yaml");
        Assert.Equal(TimeSpan.FromSeconds(90), good.Policy.Cooldown);
        var e = Assert.Throws<InputException>(() =>
            InventoryFile.Parse(new StringReader("policy:\n  highWatermark: 1.5\nhosts:\n  - name: a\n    cpuCapacity: 0\n"), "inv.yaml"));
        Assert.Contains("hosts[0].cpuCapacity must be a positive number", e.Message, StringComparison.Ordinal);
        Assert.Contains("policy.highWatermark must be a ratio in (0, 1] (got 1.5)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_alert_is_read_from_the_projects_rule_files()
    {
        var rule = AlertRule.Load(Repo.Path("prometheus"), "HypervisorCpuHigh");
        Assert.Equal(new AlertRule("HypervisorCpuHigh", 0.80, TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(15)), rule);
    }
}
