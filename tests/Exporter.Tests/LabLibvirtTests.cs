using Loadshift.Exporter.Libvirt;

namespace Loadshift.Exporter.Tests;

/// <summary>The binding against the lab's real libvirtd and QEMU domains, judged by libvirt's own client.</summary>
[Trait("Category", "Lab")]
public class LabLibvirtTests
{
    [Fact]
    public async Task Bulk_stats_agree_with_virsh_domstats_for_every_domain_of_every_host()
    {
        var checkedDomains = 0;
        foreach (var host in RunningLab.Read().Hosts)
        {
            using var source = new LibvirtStatsSource(host.LibvirtUri);
            var ours = (await source.GetAllDomainStatsAsync(StatsGroups.All, TimeSpan.FromSeconds(10), CancellationToken.None))
                .Select(DomainSample.From).ToDictionary(d => d.Name);
            var virsh = await Tool.RunAsync("virsh", ["-c", host.LibvirtUri, "domstats", "--raw"]);
            Assert.True(virsh.ExitCode == 0, virsh.Stderr);
            var theirs = VirshDomstats.Parse(virsh.Stdout).Select(DomainSample.From).ToDictionary(d => d.Name);

            Assert.Equal(theirs.Keys.Order(), ours.Keys.Order());
            foreach (var (name, v) in theirs)
            {
                var o = ours[name];
                Assert.Equal((v.State, v.StateReason), (o.State, o.StateReason));
                Assert.Equal(v.BalloonMaximumKibibytes, o.BalloonMaximumKibibytes);
                Assert.Equal(v.VcpuCurrent, o.VcpuCurrent);
                if (v.State != 1)
                {
                    continue;
                }

                // virsh read a moment later: its counters are ahead by at most what a few seconds add.
                Assert.InRange(v.CpuTimeNanoseconds - o.CpuTimeNanoseconds, 0, 5e9);
                var vcpu = Assert.Single(o.Vcpus);
                Assert.InRange(Assert.Single(v.Vcpus).TimeNanoseconds - vcpu.TimeNanoseconds, 0, 5e9);
                // The unit of vcpu.N.time: a one-vCPU domain's vCPU thread cannot use more CPU than the whole
                // QEMU process, and in microseconds it would be a thousand times more, in milliseconds a million
                // times less. So nanoseconds. The lower bound is loose: right after an incoming live migration the
                // process has spent most of its CPU receiving memory (vCPU 70 ms of 530 ms seen), not in the vCPU.
                Assert.InRange(vcpu.TimeNanoseconds, 0.01 * o.CpuTimeNanoseconds, o.CpuTimeNanoseconds);
                var net = Assert.Single(o.Interfaces);
                var vnet = Assert.Single(v.Interfaces);
                Assert.Equal(vnet.Name, net.Name);
                Assert.InRange(vnet.ReceiveBytes - net.ReceiveBytes, 0, 10e6);
                Assert.InRange(vnet.TransmitPackets - net.TransmitPackets, 0, 1e5);
                Assert.True(o.BalloonRssKibibytes > 0);
                checkedDomains++;
            }
        }

        Assert.True(checkedDomains >= 3, $"the lab runs three web VMs; only {checkedDomains} running domains were compared");
    }

    [Fact]
    public async Task Each_hosts_exporter_serves_its_own_domains_and_passes_promtool()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
        foreach (var host in RunningLab.Read().Hosts)
        {
            var text = await http.GetStringAsync(new Uri(host.ExporterUrl));
            var names = await Tool.RunAsync("virsh", ["-c", host.LibvirtUri, "list", "--all", "--name"]);

            Assert.Contains("\nlibvirt_up 1\n", text, StringComparison.Ordinal);
            foreach (var domain in names.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                Assert.Contains($"libvirt_domain_info{{domain=\"{domain}\",", text, StringComparison.Ordinal);
            }

            await Tool.AssertPromtoolAcceptsMetricsAsync(text);
        }
    }
}
