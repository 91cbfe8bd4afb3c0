namespace Loadshift.Lab.Tests;

/// <summary>
/// Needs no lab: a lab.json that outlived its lab (after a reboot lab/.state survives, the bridge does not) must stop
/// the scripts before they talk to the lab's addresses, which the machine would otherwise route out by its default
/// route. The scripts run from a copy of lab/ whose .state holds such a file.
/// </summary>
public sealed class StaleStateTests
{
    [Theory]
    [InlineData("status")]
    [InlineData("migrate", "vm1", "hv2")]
    [InlineData("lib/busy", "1")]
    public async Task ScriptsRefuseALabWhoseBridgeIsGone(string script, params string[] arguments)
    {
        var copy = Directory.CreateTempSubdirectory("loadshift-stale-lab-");
        try
        {
            var lab = Path.Combine(RepositoryRoot.Path, "lab");
            Directory.CreateDirectory(Path.Combine(copy.FullName, "lib"));
            Directory.CreateDirectory(Path.Combine(copy.FullName, ".state"));
            foreach (var file in new[] { script, "lib/common.sh" })
            {
                File.Copy(Path.Combine(lab, file), Path.Combine(copy.FullName, file), overwrite: true);
            }
            // The committed lab's addresses, on a bridge that does not exist.
            await File.WriteAllTextAsync(Path.Combine(copy.FullName, ".state", "lab.json"), """
                {"bridge": "lsgone0", "rootAddress": "10.213.7.1", "clientNetns": "lsclient",
                 "hosts": [{"name": "hv1", "address": "10.213.7.11", "libvirtUri": "qemu+tcp://10.213.7.11/system",
                            "exporterUrl": "http://10.213.7.11:10179/metrics", "cpuQuota": 0.6}],
                 "vms": [{"name": "vm1", "homeHost": "hv1", "address": "10.213.7.101", "url": "http://10.213.7.101/"}]}
                """);

            var result = await Tool.RunAsync(Path.Combine(copy.FullName, script), arguments, timeout: TimeSpan.FromSeconds(30));

            Assert.True(result.ExitCode != 0, result.ToString());
            Assert.Contains("do not go to its bridge lsgone0", result.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("10.213.7.", result.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            copy.Delete(recursive: true);
        }
    }
}
