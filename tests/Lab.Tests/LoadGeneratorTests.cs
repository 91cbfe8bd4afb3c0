using Loadshift.Lab.LoadGenerator;

namespace Loadshift.Lab.Tests;

/// <summary>Needs no lab: lab/load's option parsing, bounds and percentiles.</summary>
public sealed class LoadGeneratorTests
{
    [Fact]
    public void PercentilesAreNearestRank()
    {
        var sorted = Enumerable.Range(1, 100).Select(i => (double)i).ToList();
        Assert.Equal(50, LatencySummary.Percentile(sorted, 50));
        Assert.Equal(95, LatencySummary.Percentile(sorted, 95));
        Assert.Equal(99, LatencySummary.Percentile(sorted, 99));
        Assert.Equal(7, LatencySummary.Percentile([7], 99));
    }

    [Theory]
    [InlineData("30s", 30)]
    [InlineData("2m", 120)]
    [InlineData("500ms", 0.5)]
    [InlineData("12", 12)]
    public void DurationsParse(string text, double seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), Options.ParseDuration("--duration", text));

    [Theory]
    [InlineData("--vm", "vm1", "--rate", "0")]
    [InlineData("--vm", "vm1", "--rate", "100000")]
    [InlineData("--vm", "vm1", "--duration", "2h")]
    [InlineData("--vm", "vm1", "--path", "http://example.org/")]
    [InlineData("--rate", "1")]
    [InlineData("--vm", "vm1", "--all")]
    public void OutOfBoundsOptionsAreRejected(params string[] args) =>
        Assert.Throws<UsageException>(() => Options.Parse(args));

    [Fact]
    public void OnlyTheLabsOwnVmsAreTargets()
    {
        using var temp = new TempDirectory();
        var file = temp.Combine("lab.json");
        File.WriteAllText(file, LabStateTests.Written(vms: ["vm1", "vm2"]));

        Assert.Equal(["vm2"], Targets.Read(file, ["vm2"]).Select(v => v.Name));
        Assert.Equal(["vm1", "vm2"], Targets.Read(file, []).Select(v => v.Name));
        var unknown = Assert.Throws<UsageException>(() => Targets.Read(file, ["vm9"]));
        Assert.Equal("no VM 'vm9' in the lab (VMs: vm1, vm2)", unknown.Problem);
    }

    [Fact]
    public void A_lab_that_is_not_up_or_a_state_file_lab_up_did_not_write_is_a_usage_error()
    {
        using var temp = new TempDirectory();
        var file = temp.Combine("lab.json");
        var missing = Assert.Throws<UsageException>(() => Targets.Read(file, []));
        Assert.Contains("the lab is not up", missing.Problem, StringComparison.Ordinal);

        File.WriteAllText(file, LabStateTests.Written(vms: ["vm1"]).Replace("10.213.7.101", "192.0.2.1", StringComparison.Ordinal));
        var outside = Assert.Throws<UsageException>(() => Targets.Read(file, ["vm1"]));
        Assert.Contains("VM vm1 has address 192.0.2.1, outside the lab's /24", outside.Problem, StringComparison.Ordinal);
    }
}
