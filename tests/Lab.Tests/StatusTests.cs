namespace Loadshift.Lab.Tests;

[Collection(SharedLab.Name)]
[Trait("Category", "Lab")]
public sealed class StatusTests
{
    [Fact]
    public async Task StatusNamesEveryHostAndVmAndEveryVmAnswers()
    {
        var lab = RunningLab.Read();

        var result = await Run.Lab("status", TimeSpan.FromMinutes(1));

        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (var host in lab.Hosts)
        {
            Assert.Contains(host.LibvirtUri, result.Stdout, StringComparison.Ordinal);
            Assert.Matches($@"(?m)^\s+{host.Name}\s.*libvirtd \S+ pid \d+ up\s+exporter up", result.Stdout);
        }
        foreach (var vm in lab.Vms)
        {
            // Listed as running on some host by libvirt, and answering its page with its own name.
            Assert.Matches($@"(?m)vms: .*\b{vm.Name} \(running\)", result.Stdout);
            Assert.Matches($@"(?m)^\s+{vm.Name}\s.*{vm.Url}\s+200 in .*web VM {vm.Name}\)", result.Stdout);
        }
    }
}
