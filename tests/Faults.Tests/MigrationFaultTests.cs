using Loadshift.Rebalancer.Journal;
using Xunit.Abstractions;

namespace Loadshift.Faults.Tests;

[CollectionDefinition(Name)]
public sealed class MigrationFaultGroup : ICollectionFixture<FullLoop>
{
    public const string Name = "migration faults";
}

/// <summary>Issue 13's faults that strike a live migration the Rebalancer started (items 1, 2, 3, 5, 6, 7 and 10):
/// hv1 drained until its first domain is on its way (slowed to FullLoop.MigrationBandwidthMiB), the drain taken back,
/// the fault, then the checks of <see cref="FaultRun"/> and every VM home.</summary>
[Trait("Category", "Lab")]
[Collection(MigrationFaultGroup.Name)]
public sealed class MigrationFaultTests(FullLoop loop, ITestOutputHelper output)
{
    private static readonly TimeSpan FaultLength = TimeSpan.FromSeconds(10);

    private readonly FaultRun run = new(loop, output);

    [Fact]
    public async Task Target_libvirtd_killed_during_a_migration()
    {
        await run.EveryVmHomeAsync(TimeSpan.FromMinutes(3));
        var migration = await run.MigrationInFlightAsync();
        LabParts.KillLibvirtd(migration.Target);
        run.Say($"killed {migration.Target}'s libvirtd");
        await Task.Delay(FaultLength);
        await run.Lab.StartLibvirtdAsync(migration.Target);
        await FinishAsync("1. target's libvirtd killed (SIGKILL) during a live migration, started 10 s later", DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task Target_link_cut_during_a_migration()
    {
        await run.EveryVmHomeAsync(TimeSpan.FromMinutes(3));
        var migration = await run.MigrationInFlightAsync();
        try
        {
            run.Lab.SetLink(migration.Target, up: false);
            run.Say($"{migration.Target}'s eth0 down");
            await Task.Delay(FaultLength);
        }
        finally
        {
            run.Lab.SetLink(migration.Target, up: true);
        }
        await FinishAsync("2. target host's link down during a live migration, up 10 s later", DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task Rebalancer_killed_during_a_migration()
    {
        await run.EveryVmHomeAsync(TimeSpan.FromMinutes(3));
        await run.MigrationInFlightAsync();
        await loop.KillRebalancerAsync();
        run.Say("the Rebalancer killed (SIGKILL)");
        await Task.Delay(TimeSpan.FromSeconds(3));
        loop.StartRebalancer();
        await loop.WaitForRebalancerAsync();
        await FinishAsync("3. the Rebalancer killed (SIGKILL) during a live migration, started 3 s later", DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task Rebalancer_killed_with_its_virsh_during_a_migration()
    {
        await run.EveryVmHomeAsync(TimeSpan.FromMinutes(3));
        await run.MigrationInFlightAsync();
        await loop.KillRebalancerAndVirshAsync();
        run.Say("the Rebalancer and its virsh killed (SIGKILL)");
        await Task.Delay(TimeSpan.FromSeconds(3));
        loop.StartRebalancer();
        await loop.WaitForRebalancerAsync();
        await FinishAsync("3b. the Rebalancer killed with its virsh (SIGKILL to both, as systemd's KillMode=control-group) during a live migration, started 3 s later", DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task Domain_shut_off_between_the_decision_and_virsh()
    {
        await run.EveryVmHomeAsync(TimeSpan.FromMinutes(3));
        loop.Hook.ArmShutOff();
        try
        {
            var migration = await run.MigrationInFlightAsync(waitForJob: false);
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (loop.Hook.Armed)
            {
                Assert.True(DateTime.UtcNow < deadline, $"migration {migration.Id} journaled, but virsh migrate did not run within 60 s");
                await Task.Delay(100);
            }
            while ((await loop.MigrationsAsync()).Single(m => m.Id == migration.Id).Result == MigrationResults.Running)
            {
                Assert.True(DateTime.UtcNow < deadline, $"migration {migration.Id} still running 60 s after its domain was destroyed");
                await Task.Delay(200);
            }
        }
        finally
        {
            loop.Hook.Disarm();
        }
        await FinishAsync("5. the domain destroyed between the decision and virsh migrate", DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task Storage_server_stalled_during_a_migration()
    {
        await run.EveryVmHomeAsync(TimeSpan.FromMinutes(3));
        await run.MigrationInFlightAsync();
        try
        {
            LabParts.SetStorageStalled(true);
            run.Say("the storage server stopped (SIGSTOP)");
            await Task.Delay(FaultLength);
        }
        finally
        {
            LabParts.SetStorageStalled(false);
        }
        await FinishAsync("6. the storage server (qemu-storage-daemon) stopped 10 s (SIGSTOP, SIGCONT) during a live migration", DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task Source_libvirtd_restarted_during_a_migration()
    {
        await run.EveryVmHomeAsync(TimeSpan.FromMinutes(3));
        var migration = await run.MigrationInFlightAsync();
        await run.Lab.RestartLibvirtdAsync(migration.Source);
        run.Say($"{migration.Source}'s libvirtd restarted");
        await FinishAsync("7. source's libvirtd restarted (SIGTERM, start) during a live migration", DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task Journal_file_system_full_during_a_migration()
    {
        await run.EveryVmHomeAsync(TimeSpan.FromMinutes(3));
        var migration = await run.MigrationInFlightAsync();
        var filler = Path.Combine(loop.JournalDirectory, "filler");
        try
        {
            Fill(filler);
            run.Say($"{loop.JournalDirectory} full");
            // The migration ends (libvirt's job done) while the journal cannot grow, and a few passes run.
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (await run.Lab.MigratingAsync(migration.Source, migration.Domain))
            {
                Assert.True(DateTime.UtcNow < deadline, $"{migration.Domain}'s migration still running 90 s later");
                await Task.Delay(200);
            }
            await Task.Delay(FaultLength);
            using var webhook = await loop.PostWebhookAsync(Payloads.Firing("hv2", "faults-full", DateTimeOffset.UtcNow));
            run.Say($"webhook with the journal full: {(int)webhook.StatusCode}");
            Assert.True((int)webhook.StatusCode is 202 or 503, $"webhook with the journal full: {(int)webhook.StatusCode} {await webhook.Content.ReadAsStringAsync()}");
        }
        finally
        {
            File.Delete(filler);
        }
        var restored = DateTimeOffset.UtcNow;
        var (seconds, moves) = await run.RecoveredAsync(restored);
        var sees = $"{await run.AlertsAsExpectedAsync(moves)}, {await run.FiredAndResolvedAsync("RebalancerJournalErrors")}, the webhook answered 503";
        await run.FinishAsync("10. the journal's file system (tmpfs) full during a live migration, space again 10 s after it ended",
            FaultRun.Results(moves), sees, seconds, "nothing");
        using var after = await loop.PostWebhookAsync(Payloads.Resolved("hv2", "faults-full", DateTimeOffset.UtcNow));
        Assert.Equal(202, (int)after.StatusCode);
    }

    private async Task FinishAsync(string scenario, DateTimeOffset restoredAt)
    {
        var (seconds, moves) = await run.RecoveredAsync(restoredAt);
        var sees = await run.AlertsAsExpectedAsync(moves);
        await run.FinishAsync(scenario, FaultRun.Results(moves), sees, seconds, "nothing");
    }

    /// <summary>Writes zeros until the file system says it is full.</summary>
    private static void Fill(string file)
    {
        var chunk = new byte[1 << 20];
        using var stream = new FileStream(file, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.WriteThrough);
        try
        {
            while (true)
            {
                stream.Write(chunk);
                stream.Flush(flushToDisk: true);
            }
        }
        catch (IOException)
        {
            // ENOSPC: full.
        }
    }
}
