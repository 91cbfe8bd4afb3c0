using System.Net;
using Loadshift.Lab.LoadGenerator;
using GeneratorState = Loadshift.Lab.LoadGenerator.LabState;
using GeneratorVm = Loadshift.Lab.LoadGenerator.LabVm;

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
        GeneratorVm[] vms = [new("vm1", IPAddress.Parse("10.213.7.101")), new("vm2", IPAddress.Parse("10.213.7.102"))];
        Assert.Equal(["vm2"], GeneratorState.Select(vms, ["vm2"]).Select(v => v.Name));
        Assert.Throws<UsageException>(() => GeneratorState.Select(vms, ["vm9"]));
        Assert.False(GeneratorState.SameSlash24(IPAddress.Parse("10.213.8.1"), IPAddress.Parse("10.213.7.1")));
    }
}
