using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Loadshift.Lab.Tests;

/// <summary>
/// The lab's shared storage: every VM's data disk is an NBD export of the storage server, the CGI writes a record
/// to it on each request, and the disk stays with the VM through a live migration (the record written on the
/// target lands in the same backing file, and the target's exporter counts the VM's block writes).
/// </summary>
[Collection(SharedLab.Name)]
[Trait("Category", "Lab")]
public sealed partial class StorageTests(ITestOutputHelper output)
{
    private const int BlockSize = 4096;
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    [Fact]
    public async Task EveryVmHasItsNetworkDiskOnTheStorageServer()
    {
        var lab = RunningLab.Read();
        Assert.StartsWith($"nbd://{lab.RootAddress}:", lab.StorageUrl, StringComparison.Ordinal);
        foreach (var vm in lab.Vms)
        {
            var host = await lab.RunningOn(vm);
            var disks = await Run.Virsh(host, "domblklist", vm.Name, "--details");
            Assert.True(disks.ExitCode == 0, disks.ToString());
            var rows = disks.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .ToList();
            // Type, device, target, source: the export named after the VM, on the network, not a local file.
            Assert.Contains(rows, row => row is ["network", "disk", var target, var source]
                && target == vm.Disk.Device && source == vm.Disk.Export);
            Assert.Equal(vm.Disk.SizeBytes, new FileInfo(vm.Disk.Path).Length);
        }
    }

    [Fact]
    public async Task TheDiskFollowsTheVmThroughALiveMigration()
    {
        var lab = RunningLab.Read();
        // The last VM: MigrationTests moves the first.
        var vm = lab.Vms[^1];
        var home = await lab.RunningOn(vm);
        var target = lab.Hosts.First(h => h.Name != home.Name);

        var before = await RequestAndCheckRecord(vm);
        try
        {
            var migrate = await Run.Lab("migrate", TimeSpan.FromMinutes(3), vm.Name, target.Name);
            output.WriteLine(migrate.Stdout);
            Assert.True(migrate.ExitCode == 0, migrate.ToString());
            Assert.Equal(target.Name, (await lab.RunningOn(vm)).Name);

            var after = await RequestAndCheckRecord(vm);
            // The record written before the migration is still there, unless the new one took its block.
            if (after.Block != before.Block)
            {
                Assert.Equal(before.Text, ReadRecord(vm, before.Block));
            }

            // The target's QEMU does the disk I/O now, and the target's exporter shows it.
            var metrics = await Http.GetStringAsync(new Uri(target.ExporterUrl));
            var writes = Exposition.Sample(metrics, $"libvirt_domain_block_write_requests_total{{domain=\"{vm.Name}\",device=\"{vm.Disk.Device}\"}}");
            Assert.True(writes >= 1, $"{target.Name}'s exporter counts {writes} block writes of {vm.Name} after a request on {target.Name}");
        }
        finally
        {
            if ((await lab.RunningOn(vm)).Name != home.Name)
            {
                var back = await Run.Lab("migrate", TimeSpan.FromMinutes(3), vm.Name, home.Name);
                Assert.True(back.ExitCode == 0, back.ToString());
            }
        }
    }

    /// <summary>One CGI request; its answer names the record it wrote and where, and the backing file holds it.</summary>
    private async Task<(string Text, long Block)> RequestAndCheckRecord(LabVm vm)
    {
        var answer = await Http.GetStringAsync(new Uri(vm.CgiUrl));
        output.WriteLine(answer);
        var match = RecordPattern().Match(answer);
        Assert.True(match.Success, $"{vm.Name}'s CGI answered without a record on its disk: {answer}");
        Assert.Equal($"/dev/{vm.Disk.Device}", match.Groups["device"].Value);
        var text = match.Groups["text"].Value;
        Assert.StartsWith($"{vm.Name} ", text, StringComparison.Ordinal);
        var block = long.Parse(match.Groups["block"].Value, CultureInfo.InvariantCulture);
        // O_DIRECT in the guest, cache.direct=on in the storage server: the write is in the file once answered.
        Assert.Equal(text, ReadRecord(vm, block));
        return (text, block);
    }

    private static string ReadRecord(LabVm vm, long block)
    {
        var buffer = new byte[BlockSize];
        using var file = File.OpenHandle(vm.Disk.Path);
        var read = RandomAccess.Read(file, buffer, block * BlockSize);
        Assert.Equal(BlockSize, read);
        var end = Array.IndexOf(buffer, (byte)'\n');
        return end < 0 ? "" : Encoding.ASCII.GetString(buffer, 0, end);
    }

    [GeneratedRegex(@"; record '(?<text>[^']+)' at block (?<block>\d+) of (?<device>/dev/\w+)")]
    private static partial Regex RecordPattern();
}
