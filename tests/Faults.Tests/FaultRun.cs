using System.Diagnostics;
using System.Globalization;
using System.Text;
using Loadshift.Rebalancer.Journal;
using Xunit.Abstractions;

namespace Loadshift.Faults.Tests;

/// <summary>What every scenario does around its fault: starts from the lab as found (every VM home), gets a migration
/// in flight when the fault needs one, and afterwards checks the issue's list: every domain on exactly one host,
/// libvirt's placement and the journal's agree, no migration left open, the Rebalancer answers, the alert that
/// matches the result fired and resolved (none when every move succeeded), the time to recover measured; then
/// every VM home again. Each run adds a line to the report (<see cref="ReportFile"/>, docs/reliability.md's table).</summary>
public sealed class FaultRun(FullLoop loop, ITestOutputHelper output)
{
    /// <summary>How long recovery may take once the fault is over: a pass resolves an open migration within
    /// policy.checkInterval (2 s), libvirt answers within seconds; a minute covers a libvirtd start and a retry.</summary>
    private static readonly TimeSpan RecoveryLimit = TimeSpan.FromMinutes(2);

    private readonly LabParts lab = new(loop.Lab);
    private readonly Stopwatch clock = Stopwatch.StartNew();

    public LabParts Lab => lab;

    /// <summary>out/faults/report.md in the checkout: one table row per scenario run.</summary>
    public static string ReportFile => Path.Combine(RepositoryRoot.Path, "out", "faults", "report.md");

    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    public void Say(string line) => output.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss.f} {line}");

    /// <summary>Until every VM runs on its home host and nowhere else (the Rebalancer brings them back).</summary>
    public async Task EveryVmHomeAsync(TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        Placement placement;
        while (!AllHome(placement = await lab.PlacementAsync()))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the VMs are not home after {limit.TotalSeconds:0} s: {placement}\n{RebalancerTail()}");
            await Task.Delay(1000);
        }
    }

    /// <summary>Drains hv1 until the Rebalancer's first migration off it is in flight (journaled running and, unless
    /// <paramref name="waitForJob"/> is false, libvirt's job moving data), then takes the drain back so that it is the
    /// only one. Returns that migration.</summary>
    public async Task<MigrationRecord> MigrationInFlightAsync(bool waitForJob = true)
    {
        var since = DateTimeOffset.UtcNow;
        await loop.SetMaintenanceAsync("hv1", drain: true);
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            MigrationRecord? migration = null;
            while (migration is null)
            {
                Assert.True(DateTime.UtcNow < deadline, $"no migration off hv1 60 s after the drain\n{RebalancerTail()}");
                migration = (await loop.MigrationsAsync()).FirstOrDefault(m => m.StartedAt >= since.AddSeconds(-1) && m.Source == "hv1");
                await Task.Delay(100);
            }
            while (waitForJob && !await lab.MigratingAsync(migration.Source, migration.Domain))
            {
                Assert.True(DateTime.UtcNow < deadline, $"{migration.Domain}'s migration shows no job on hv1\n{RebalancerTail()}");
                await Task.Delay(100);
            }
            Say($"migration {migration.Id} of {migration.Domain} {migration.Source} -> {migration.Target} in flight");
            return migration;
        }
        finally
        {
            await loop.SetMaintenanceAsync("hv1", drain: false);
        }
    }

    /// <summary>After the fault is over (<paramref name="restoredAt"/>): until the issue's checks all hold, then the
    /// alert check. Returns the seconds from the end of the fault to recovery and the scenario's migrations.</summary>
    public async Task<(double Seconds, IReadOnlyList<MigrationRecord> Moves)> RecoveredAsync(DateTimeOffset restoredAt)
    {
        var deadline = DateTime.UtcNow + RecoveryLimit;
        string why;
        while ((why = await NotRecoveredAsync()) is { Length: > 0 })
        {
            Assert.True(DateTime.UtcNow < deadline, $"not recovered {RecoveryLimit.TotalSeconds:0} s after the fault: {why}\n{RebalancerTail()}");
            await Task.Delay(500);
        }
        var seconds = (DateTimeOffset.UtcNow - restoredAt).TotalSeconds;
        IReadOnlyList<MigrationRecord> moves = [.. (await loop.MigrationsAsync()).Where(m => m.StartedAt >= StartedAt)];
        Say($"recovered {seconds:0.0} s after the fault; migrations: {string.Join("; ", moves.Select(Describe))}");
        return (seconds, moves);

        async Task<string> NotRecoveredAsync()
        {
            try
            {
                using var health = await loop.Http.GetAsync(new Uri($"{loop.RebalancerUrl}/api/v1/status"));
                if (!health.IsSuccessStatusCode)
                {
                    return $"/api/v1/status answers {(int)health.StatusCode}";
                }
                var journal = await loop.MigrationsAsync();
                // A migration started once the fault was over (a VM's return home) is the Rebalancer at work again,
                // not the fault's trace: its domain is left out until it ends (FinishAsync waits for every VM home).
                var running = journal.Where(m => m.Result == MigrationResults.Running).ToList();
                if (running.FirstOrDefault(m => m.StartedAt < restoredAt) is { } open)
                {
                    return $"migration {open.Id} ({open.Domain}) is open in the journal: {open.Note}";
                }
                var moving = running.Select(m => m.Domain).ToHashSet(StringComparer.Ordinal);
                var placement = await lab.PlacementAsync();
                if (!placement.EachOnOneHost(moving))
                {
                    return $"libvirt: {placement}";
                }
                return Disagreements(journal, placement, moving);
            }
            catch (HttpRequestException e)
            {
                return $"the Rebalancer does not answer: {e.Message}";
            }
            catch (TaskCanceledException)
            {
                return "the Rebalancer does not answer within 30 s";
            }
        }
    }

    /// <summary>Where the journal last put each VM (its newest finished migration's placement, else its home host)
    /// against where libvirt runs it; empty when they agree.</summary>
    private string Disagreements(IReadOnlyList<MigrationRecord> journal, Placement placement, HashSet<string> moving)
    {
        var wrong = new StringBuilder();
        foreach (var vm in loop.Lab.Vms.Where(v => !moving.Contains(v.Name)))
        {
            var last = journal.Where(m => m.Domain == vm.Name && m.Placement is not null).MaxBy(m => m.Id);
            var journaled = last?.Placement ?? vm.HomeHost;
            if (journaled != placement.HostOf(vm.Name))
            {
                wrong.Append(CultureInfo.InvariantCulture, $"{vm.Name}: journal says {journaled} (migration {last?.Id}), libvirt runs it on {placement.HostOf(vm.Name)}; ");
            }
        }
        return wrong.ToString();
    }

    /// <summary>The alert for the scenario's results: RebalancerMigrationFailed when a move failed or timed out,
    /// RebalancerMigrationInterrupted when one left its domain running nowhere; each fired and then resolved. Neither
    /// when every move succeeded. Returns what a person saw, for the report.</summary>
    public async Task<string> AlertsAsExpectedAsync(IReadOnlyList<MigrationRecord> moves)
    {
        // A scrape and an evaluation (2 s each) after the last count.
        await Task.Delay(TimeSpan.FromSeconds(6));
        var seen = new List<string>();
        foreach (var (alert, results) in new[]
        {
            ("RebalancerMigrationFailed", new[] { MigrationResults.Failed, MigrationResults.TimedOut }),
            ("RebalancerMigrationInterrupted", new[] { MigrationResults.Interrupted }),
        })
        {
            var expected = moves.Any(m => results.Contains(m.Result));
            var fired = await loop.SeriesAsync($"max_over_time(ALERTS{{alertname=\"{alert}\",alertstate=\"firing\"}}[{Since()}s])") > 0;
            Assert.True(fired == expected, $"{alert} {(fired ? "fired" : "did not fire")}; migrations: {string.Join("; ", moves.Select(Describe))}");
            if (fired)
            {
                seen.Add(await FiredAndResolvedAsync(alert));
            }
        }
        return seen.Count == 0 ? "no migration alert" : string.Join(", ", seen);
    }

    /// <summary>Until <paramref name="alert"/> has fired since the scenario started and resolved again.</summary>
    public async Task<string> FiredAndResolvedAsync(string alert)
    {
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (await loop.SeriesAsync($"max_over_time(ALERTS{{alertname=\"{alert}\",alertstate=\"firing\"}}[{Since()}s])") == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{alert} did not fire");
            await Task.Delay(2000);
        }
        while (await loop.SeriesAsync($"ALERTS{{alertname=\"{alert}\",alertstate=\"firing\"}}") > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{alert} still firing 3 minutes later");
            await Task.Delay(2000);
        }
        return $"{alert} fired and resolved";
    }

    /// <summary>Until <paramref name="condition"/> holds, asked every second; fails after <paramref name="limit"/>
    /// naming <paramref name="what"/>.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan limit, string what)
    {
        var deadline = DateTime.UtcNow + limit;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"not within {limit.TotalSeconds:0} s: {what}");
            await Task.Delay(1000);
        }
    }

    /// <summary>Appends a row to the report.</summary>
    public static async Task ReportAsync(string row)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(ReportFile)!);
        await File.AppendAllTextAsync(ReportFile, row + "\n");
    }

    private int Since() => (int)Math.Ceiling((DateTimeOffset.UtcNow - StartedAt).TotalSeconds) + 1;

    /// <summary>Every VM home again (a VM left shut off is started where it is defined first), and the scenario's row
    /// in the report.</summary>
    public async Task FinishAsync(string scenario, string didWhat, string sees, double recoverySeconds, string lost)
    {
        var placement = await lab.PlacementAsync();
        foreach (var (vm, hosts) in placement.Running.Where(r => r.Value.Count == 0))
        {
            Say($"starting {vm} on {placement.Defined[vm].Single()} (left shut off)");
            await lab.StartDomainAsync(placement.Defined[vm].Single(), vm);
        }
        await EveryVmHomeAsync(TimeSpan.FromMinutes(3));
        var row = $"| {scenario} | {didWhat} | {sees} | {recoverySeconds.ToString("0.0", CultureInfo.InvariantCulture)} s | {lost} | {clock.Elapsed.TotalSeconds:0} s |";
        Say(row);
        await ReportAsync(row);
    }

    public static string Describe(MigrationRecord m) =>
        $"#{m.Id} {m.Domain} {m.Source}->{m.Target} {m.Result} in {((m.EndedAt ?? DateTimeOffset.UtcNow) - m.StartedAt).TotalSeconds:0.0} s, placement {m.Placement ?? "none"} ({m.Note})";

    public static string Results(IReadOnlyList<MigrationRecord> moves) =>
        moves.Count == 0 ? "no migration" : string.Join(", ", moves.Select(m => $"{m.Domain} {m.Source}->{m.Target} {m.Result}"));

    public string RebalancerTail()
    {
        var text = loop.RebalancerOutput;
        return "--- the Rebalancer's log (end)\n" + (text.Length <= 4000 ? text : text[^4000..]);
    }

    private bool AllHome(Placement placement) =>
        placement.EachOnOneHost() && loop.Lab.Vms.All(v => placement.HostOf(v.Name) == v.HomeHost && placement.Running[v.Name].Count == 1);
}
