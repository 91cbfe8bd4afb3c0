using System.Globalization;
using System.Net.Http.Json;
using Loadshift.Rebalancer.Journal;
using Xunit.Abstractions;

namespace Loadshift.Faults.Tests;

[CollectionDefinition(Name)]
public sealed class MemoryAlertGroup : ICollectionFixture<MemoryLoop>
{
    public const string Name = "memory alert";
}

/// <summary>The whole loop (<see cref="FullLoop"/>) with HypervisorMemoryHigh's watermark under hv1's real memory use,
/// measured from hv1's Exporter before Prometheus starts: halfway between hv1's memory share now and the share the
/// planner predicts once one of its domains has left (the domain's current memory over hv1's total). The same number is
/// the Rebalancer's policy.memoryHighWatermark, as docs/rebalancer.md asks; the alert's `for` is the suite's 10 s.</summary>
public sealed class MemoryLoop : IAsyncLifetime, IDisposable
{
    private FullLoop? loop;

    public FullLoop Loop => loop ?? throw new InvalidOperationException("The memory loop has not started.");

    /// <summary>hv1's memory share (free's used over total) when the fixture started.</summary>
    public double Hv1Share { get; private set; }

    /// <summary>The rendered alert's and the Rebalancer's memory high watermark.</summary>
    public double Watermark { get; private set; }

    public async Task InitializeAsync()
    {
        var lab = RunningLab.Read();
        // Measured with every VM home, before the Rebalancer starts (it acts on the alert as soon as it fires).
        var placement = await new LabParts(lab).PlacementAsync();
        Assert.True(placement.EachOnOneHost() && lab.Vms.All(v => placement.HostOf(v.Name) == v.HomeHost), $"the VMs are not home: {placement}");
        var hv1 = await HostMemory.ScrapeAsync(lab.Host("hv1"), lab.Vms.Where(v => v.HomeHost == "hv1").Select(v => v.Name));
        Hv1Share = hv1.Share;
        var step = hv1.SmallestDomainBytes / hv1.TotalBytes;
        Watermark = Math.Round(hv1.Share - (step / 2), 3);
        foreach (var other in lab.Hosts.Where(h => h.Name != "hv1"))
        {
            // A target that one lab VM would take to the watermark could not take the relief (rule memory_high_watermark).
            var share = (await HostMemory.ScrapeAsync(other, [])).Share;
            Assert.True(share + step < Watermark,
                $"{other.Name} uses {share:0.000} of its memory: with a VM of hv1 ({step:0.000}) it would reach the watermark {Watermark:0.000}");
        }
        var mark = Watermark.ToString("0.000", CultureInfo.InvariantCulture);
        loop = new FullLoop(["--memory-high-watermark", mark, "--memory-high-for", "10s"], [$"--policy:memoryHighWatermark={mark}"]);
        await loop.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        if (loop is not null)
        {
            await loop.DisposeAsync();
        }
    }

    /// <summary>Stops the loop's processes, as <see cref="FullLoop.Dispose"/> (xUnit calls <see cref="DisposeAsync"/>).</summary>
    public void Dispose() => loop?.Dispose();

    /// <summary>A host's memory as its Exporter serves it: hypervisor_memory_used_bytes over _total_bytes (the recording
    /// rule host:hypervisor_memory_used:ratio), and the least current memory (libvirt_domain_memory_current_bytes, what the
    /// planner counts a move as freeing) among <c>domains</c>; the lowest share of three scrapes a second apart.</summary>
    private sealed record HostMemory(double Share, double TotalBytes, double SmallestDomainBytes)
    {
        public static async Task<HostMemory> ScrapeAsync(LabHost host, IEnumerable<string> domains)
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            HostMemory? lowest = null;
            for (var scrape = 0; scrape < 3; scrape++)
            {
                var metrics = await http.GetStringAsync(new Uri(host.ExporterUrl));
                var total = Exposition.Sample(metrics, "hypervisor_memory_total_bytes");
                var share = Exposition.Sample(metrics, "hypervisor_memory_used_bytes") / total;
                var smallest = domains.Select(d => Exposition.Sample(metrics, $"libvirt_domain_memory_current_bytes{{domain=\"{d}\"}}"))
                    .DefaultIfEmpty(0).Min();
                if (lowest is null || share < lowest.Share)
                {
                    lowest = new HostMemory(share, total, smallest);
                }
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
            return lowest!;
        }
    }
}

/// <summary>Issue 12's lab test of memory as a dimension: the memory alert's path from the Exporter to a decision. hv1's
/// real hypervisor_memory_* metrics, scraped by Prometheus, make HypervisorMemoryHigh fire (the watermark rendered under
/// hv1's use, <see cref="MemoryLoop"/>); Alertmanager sends it to the Rebalancer's webhook; the Rebalancer journals a
/// memory_relief decision and live-migrates a domain off hv1, as GET /api/v1/decisions/{id} shows. No CPU load: hv1 is
/// not busy, so no CPU relief can be the cause.</summary>
[Trait("Category", "Lab")]
[Collection(MemoryAlertGroup.Name)]
public sealed class MemoryAlertTests(MemoryLoop memory, ITestOutputHelper output)
{
    private const string Alert = "HypervisorMemoryHigh";

    [Fact]
    public async Task Hv1s_memory_alert_makes_a_memory_relief_that_moves_a_domain_off_hv1()
    {
        var loop = memory.Loop;
        var run = new FaultRun(loop, output);
        var mark = memory.Watermark.ToString("0.000", CultureInfo.InvariantCulture);
        run.Say($"hv1 used {memory.Hv1Share:0.000} of its memory with every VM home; memory high watermark {mark}");
        try
        {
            // The Exporter's figures through the recording rule, then the alert, in Prometheus.
            await FaultRun.UntilAsync(async () => await loop.SeriesAsync($"host:hypervisor_memory_used:ratio{{host=\"hv1\"}} > {mark}") > 0,
                TimeSpan.FromMinutes(1), $"hv1's host:hypervisor_memory_used:ratio over {mark} in Prometheus");
            await FaultRun.UntilAsync(async () => await loop.SeriesAsync($"ALERTS{{alertname=\"{Alert}\",alertstate=\"firing\",host=\"hv1\"}}") > 0,
                TimeSpan.FromMinutes(1), $"{Alert} firing for hv1");
            run.Say($"{Alert} fires for hv1");

            // Alertmanager's notification in the Rebalancer's journal of alerts.
            AlertRecord? received = null;
            await FaultRun.UntilAsync(async () =>
            {
                received = (await AlertsAsync(loop)).FirstOrDefault(a => a is { AlertName: Alert, Host: "hv1", Action: "rebalance", Status: "firing" });
                return received is not null;
            }, TimeSpan.FromMinutes(1), $"{Alert} for hv1 received by the Rebalancer's webhook");
            var alert = received!;
            var firedAt = alert.StartsAt ?? alert.FirstReceivedAt;
            run.Say($"{Alert} for hv1 received at {alert.FirstReceivedAt:HH:mm:ss.f}, firing since {firedAt:HH:mm:ss.f}");

            // The memory relief's migration, and its decision as the API explains it.
            MigrationRecord? relief = null;
            await FaultRun.UntilAsync(async () =>
            {
                relief = (await loop.MigrationsAsync()).Where(m => m.Kind == "memory_relief" && m.Result != MigrationResults.Running).MinBy(m => m.Id);
                return relief is not null;
            }, TimeSpan.FromMinutes(2), "a memory relief migration ended");
            var moved = relief!;
            run.Say($"migration: {FaultRun.Describe(moved)}");
            Assert.Equal(MigrationResults.Succeeded, moved.Result);
            Assert.Equal("hv1", moved.Source);
            Assert.NotEqual("hv1", moved.Placement);
            Assert.NotNull(moved.DecisionId);
            var explained = await loop.Http.GetFromJsonAsync<DecisionExplanation>(new Uri($"{loop.RebalancerUrl}/api/v1/decisions/{moved.DecisionId}"));
            var decision = explained!.Decision;
            run.Say($"decision {decision.Id}: {decision.Kind} {decision.Outcome} {decision.Reason}: {decision.Detail}");
            Assert.Equal(("memory_relief", "migrate", "memory_high", "hv1"), (decision.Kind, decision.Outcome, decision.Reason, decision.Host));
            Assert.Equal((moved.Domain, "hv1", moved.Target), (decision.Domain, decision.Source, decision.Target));
            Assert.True(decision.At >= firedAt, $"decision {decision.Id} at {decision.At:O}, before the alert fired ({firedAt:O})");
            Assert.Contains(explained.Migrations, m => m.Id == moved.Id);
            var chosen = Assert.Single(explained.Considered!, c => c.Chosen).Plan;
            Assert.True(chosen.SourceMemoryBefore > memory.Watermark, $"predicted from hv1's memory {chosen.SourceMemoryBefore}, not over {mark}");
            Assert.True(chosen.TargetMemoryAfter < memory.Watermark, $"{chosen.Target} predicted at {chosen.TargetMemoryAfter}, not under {mark}");

            // The move relieved hv1 for real: its measured share under the mark, the alert resolved.
            await FaultRun.UntilAsync(async () => await loop.SeriesAsync($"ALERTS{{alertname=\"{Alert}\",host=\"hv1\"}}") == 0,
                TimeSpan.FromMinutes(1), $"{Alert} for hv1 resolved after the move");
            run.Say($"{Alert} resolved; hv1 at {await PrometheusQueries.ValueAsync(loop.PrometheusUrl, "host:hypervisor_memory_used:ratio{host=\"hv1\"}"):0.000}");
        }
        finally
        {
            // Under this watermark hv1 cannot take its domains back (the return home keeps it under the memory watermark
            // too): the Rebalancer stops and they go home by hand, as an operator would put them back.
            await loop.StopRebalancerAsync();
            var placement = await run.Lab.PlacementAsync();
            foreach (var vm in loop.Lab.Vms.Where(v => placement.Defined[v.Name].SingleOrDefault() is { } at && at != v.HomeHost))
            {
                run.Say($"lab/migrate {vm.Name} {vm.HomeHost}");
                Tool.RunOk(Path.Combine(RepositoryRoot.Path, "lab", "migrate"), [vm.Name, vm.HomeHost], timeout: TimeSpan.FromMinutes(3));
            }
        }
        await run.EveryVmHomeAsync(TimeSpan.FromSeconds(30));
    }

    private static async Task<IReadOnlyList<AlertRecord>> AlertsAsync(FullLoop loop) =>
        (await loop.Http.GetFromJsonAsync<Page<AlertRecord>>(new Uri($"{loop.RebalancerUrl}/api/v1/journal?kind=alerts")))!.Items;
}
