using System.Globalization;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Loadshift.Lab.Tests;

/// <summary>Each host's exporter answers and shows that host's own CPU and memory (through lxcfs).</summary>
[Collection(SharedLab.Name)]
[Trait("Category", "Lab")]
public sealed partial class ExporterTests(ITestOutputHelper output)
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    [Fact]
    public async Task EachExporterAnswersWithItsOwnHostsMemory()
    {
        var lab = RunningLab.Read();
        foreach (var host in lab.Hosts)
        {
            var metrics = await Http.GetStringAsync(new Uri(host.ExporterUrl));

            Assert.Contains("hypervisor_cpu_seconds_total{", metrics, StringComparison.Ordinal);
            // lxcfs's MemTotal is the host's cgroup memory limit: the exporter reads its own host's /proc.
            var total = Exposition.Sample(metrics, "hypervisor_memory_total_bytes");
            Assert.True(total == host.MemoryBytes, $"{host.Name}: hypervisor_memory_total_bytes {total}, expected {host.MemoryBytes}");
            // lxcfs shows as many CPUs as the quota rounded up.
            Assert.Equal(Math.Ceiling(host.CpuQuota), Exposition.Sample(metrics, "hypervisor_cpus"));
        }
    }

    [Fact]
    public async Task LoadOnTheFirstHostsVmsMovesOnlyThatHostsBusyRatio()
    {
        var lab = RunningLab.Read();
        var loaded = lab.Hosts[0];
        var other = lab.Hosts[1];
        var vms = new List<string>();
        foreach (var vm in lab.Vms)
        {
            var state = await Run.Virsh(loaded, "domstate", vm.Name);
            if (state.ExitCode == 0 && state.Stdout.Trim() == "running")
            {
                vms.Add(vm.Name);
            }
        }
        Assert.True(vms.Count > 0, $"no VM runs on {loaded.Name}");
        // A CGI request that timed out earlier still runs inside its guest for up to 5 s: wait for a quiet host, then
        // take both hosts' busy ratio without load as the baseline.
        await WaitQuiet(loaded);
        var loadedBaseline = await BusyOver(loaded, TimeSpan.FromSeconds(5));
        var otherBaseline = await BusyOver(other, TimeSpan.FromSeconds(5));

        // 1.5 CGI requests a second per VM for 20 s; each costs about 90 to 100 ms of CPU, so three VMs keep 0.6 of a
        // core about 70% busy (docs/lab.md). The window skips the first 3 s and the last 5 s of the load.
        var load = Run.Lab("load", TimeSpan.FromMinutes(2), "--vm", string.Join(',', vms), "--rate", "1.5", "--duration", "20s", "--json");
        await Task.Delay(TimeSpan.FromSeconds(3));
        var loadedBefore = await CpuSeconds(loaded);
        var otherBefore = await CpuSeconds(other);
        await Task.Delay(TimeSpan.FromSeconds(12));
        var loadedBusy = Busy(loadedBefore, await CpuSeconds(loaded));
        var otherBusy = Busy(otherBefore, await CpuSeconds(other));
        var result = await load;

        output.WriteLine($"without load: {loaded.Name} {loadedBaseline:P1}, {other.Name} {otherBaseline:P1}");
        output.WriteLine($"with {vms.Count} loaded VMs on {loaded.Name}: {loaded.Name} {loadedBusy:P1}, {other.Name} {otherBusy:P1}");
        output.WriteLine(result.Stdout);
        Assert.True(result.ExitCode == 0, result.ToString());
        var report = LabJson.Parse<LoadReport>(result.Stdout);
        Assert.Equal(vms.Count, report.Targets.Count);
        Assert.All(report.Targets, t =>
        {
            Assert.True(t.Succeeded > 0, $"{t.Vm}: no request succeeded");
            Assert.NotNull(t.LatencyMs.P50);
            Assert.NotNull(t.LatencyMs.P99);
        });
        Assert.True(loadedBusy - loadedBaseline > 0.25,
            $"{loaded.Name} busy {loadedBusy:P1} under load against {loadedBaseline:P1} without: expected 25 points more");
        Assert.True(otherBusy - otherBaseline < 0.1,
            $"{other.Name} busy {otherBusy:P1} while only {loaded.Name}'s VMs were loaded, against {otherBaseline:P1} before: expected under 10 points more");
    }

    // Waits up to a minute for the host to be below 20% busy; goes on anyway after that (the baseline then
    // accounts for whatever keeps it busy), saying so in the test output.
    private async Task WaitQuiet(LabHost host)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (DateTime.UtcNow < deadline)
        {
            var busy = await BusyOver(host, TimeSpan.FromSeconds(3));
            if (busy < 0.2)
            {
                return;
            }
            output.WriteLine($"{host.Name} still {busy:P0} busy before the load; waiting");
        }
        output.WriteLine($"{host.Name} not quiet after a minute; measuring against its baseline");
    }

    private static async Task<double> BusyOver(LabHost host, TimeSpan window)
    {
        var before = await CpuSeconds(host);
        await Task.Delay(window);
        return Busy(before, await CpuSeconds(host));
    }

    private static double Busy((double Idle, double Total) before, (double Idle, double Total) after)
    {
        var total = after.Total - before.Total;
        Assert.True(total > 0, "hypervisor_cpu_seconds_total did not grow between two scrapes");
        return 1 - (after.Idle - before.Idle) / total;
    }

    private static async Task<(double Idle, double Total)> CpuSeconds(LabHost host)
    {
        var metrics = await Http.GetStringAsync(new Uri(host.ExporterUrl));
        double idle = 0, total = 0;
        foreach (Match m in CpuSample().Matches(metrics))
        {
            var value = double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
            total += value;
            if (m.Groups["mode"].Value == "idle")
            {
                idle += value;
            }
        }
        return (idle, total);
    }

    [GeneratedRegex(@"(?m)^hypervisor_cpu_seconds_total\{cpu=""\d+"",mode=""(?<mode>\w+)""\} (?<value>\S+)$")]
    private static partial Regex CpuSample();
}
