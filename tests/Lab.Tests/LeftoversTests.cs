namespace Loadshift.Lab.Tests;

/// <summary>
/// lab/down ends with lab/lib/leftovers and fails when it finds anything; this checks that the checker is not
/// blind: with the lab up it must list the lab's namespaces, bridge, cgroups, mounts and processes.
/// (lab/down itself runs after the tests, in tests/run and CI, where its exit status is the check.)
/// </summary>
[Collection(SharedLab.Name)]
[Trait("Category", "Lab")]
public sealed class LeftoversTests
{
    [Fact]
    public async Task LeftoversSeesEverythingOfARunningLab()
    {
        var lab = RunningLab.Read();

        var result = await Run.Lab(Path.Combine("lib", "leftovers"), TimeSpan.FromMinutes(1),
            Path.Combine(RepositoryRoot.Path, "lab", ".state", "lab.conf"));

        Assert.True(result.ExitCode == 1, result.ToString());
        foreach (var host in lab.Hosts)
        {
            Assert.Contains($"left behind: network namespace {host.Netns}", result.Stdout, StringComparison.Ordinal);
        }
        Assert.Contains($"left behind: network namespace {lab.ClientNetns}", result.Stdout, StringComparison.Ordinal);
        Assert.Contains($"left behind: bridge {lab.Bridge}", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("left behind: cgroup cpu/loadshift-lab", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("left behind: mount ", result.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"left behind: process \d+: .*qemu-system-x86_64", result.Stdout);
        Assert.Matches(@"left behind: process \d+: libvirtd", result.Stdout);
    }
}
