using System.Diagnostics;
using Xunit.Abstractions;

namespace Loadshift.Lab.Tests;

/// <summary>
/// A guest whose processes stop running is reset by its watchdog device and serves again, on the same host. Two CI
/// runs met a guest that, just live-migrated under full load, answered neither ping nor HTTP for eight minutes while
/// using 96% of its host (docs/lab.md): the lab's guests now have an i6300esb that their init feeds every 5 s with a
/// 60 s timeout. The fault here is SysRq-I (every process but init killed, the watchdog's feeder among them), sent as
/// keys through libvirt.
/// </summary>
[Collection(SharedLab.Name)]
[Trait("Category", "Lab")]
public sealed class GuestWatchdogTests(ITestOutputHelper output)
{
    private const int WatchdogTimeoutSeconds = 60;

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(2) };

    [Fact]
    public async Task A_guest_that_stops_feeding_its_watchdog_is_reset_and_serves_again()
    {
        var lab = RunningLab.Read();
        var vm = lab.Vms[^1];
        var host = await lab.RunningOn(vm);
        var console = Path.Combine(Path.GetDirectoryName(RunningLab.StateFile)!, "hosts", host.Name, "log", "qemu", $"{vm.Name}-console.log");
        Assert.True(File.Exists(console), $"no console log of {vm.Name} at {console}");
        Assert.True(await Answers(vm), $"{vm.Name} does not answer before the fault");
        var consoleBefore = (await File.ReadAllTextAsync(console)).Length;

        var keys = await Run.Virsh(host, "send-key", vm.Name, "KEY_LEFTALT", "KEY_SYSRQ", "KEY_I");
        Assert.True(keys.ExitCode == 0, keys.ToString());
        var sent = Stopwatch.StartNew();

        // Its web server is gone with every other process...
        while (await Answers(vm))
        {
            Assert.True(sent.Elapsed < TimeSpan.FromSeconds(20), $"{vm.Name} still answers {sent.Elapsed.TotalSeconds:0} s after SysRq-I");
            await Task.Delay(500);
        }
        var silentAt = sent.Elapsed;

        // ... and it answers again once the watchdog has reset it and it has booted: not before the watchdog's
        // timeout (no other part brought it back), well within twice the timeout and a boot.
        while (!await Answers(vm))
        {
            Assert.True(sent.Elapsed < TimeSpan.FromSeconds(3 * WatchdogTimeoutSeconds),
                $"{vm.Name} silent for {sent.Elapsed.TotalSeconds:0} s after SysRq-I: its watchdog did not reset it");
            await Task.Delay(1000);
        }
        var backAt = sent.Elapsed;
        output.WriteLine($"{vm.Name}: silent {silentAt.TotalSeconds:0.0} s after the keys, answering again after {backAt.TotalSeconds:0.0} s");
        Assert.True(backAt >= TimeSpan.FromSeconds(WatchdogTimeoutSeconds - 10),
            $"{vm.Name} answered again {backAt.TotalSeconds:0} s after SysRq-I, before its watchdog's {WatchdogTimeoutSeconds} s");

        // The console tells the story: the kill, the watchdog left running, a new boot that feeds it again (init
        // writes its last line after httpd has started and its address is announced: up to a few seconds later).
        var serving = $"init: {vm.Name} serving http";
        var after = "";
        for (var tries = 0; tries < 20 && !after.Contains(serving, StringComparison.Ordinal); tries++)
        {
            await Task.Delay(tries == 0 ? 0 : 500);
            after = (await File.ReadAllTextAsync(console))[consoleBefore..];
        }
        output.WriteLine(after);
        var kill = after.IndexOf("sysrq: Kill All Tasks", StringComparison.Ordinal);
        var orphaned = after.IndexOf("watchdog did not stop", StringComparison.Ordinal);
        var reboot = after.IndexOf("init: watchdog fed every 5 s", StringComparison.Ordinal);
        var served = after.IndexOf(serving, StringComparison.Ordinal);
        Assert.True(kill >= 0 && orphaned > kill && reboot > orphaned && served > reboot, $"console of {vm.Name} after the keys:\n{after}");

        // Reset in place: still running on the host it was on, and nowhere else.
        Assert.Equal(host.Name, (await lab.RunningOn(vm)).Name);
    }

    private static async Task<bool> Answers(LabVm vm)
    {
        try
        {
            using var response = await Http.GetAsync(new Uri(vm.Url));
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }
}
