using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using CliWrap;
using CliWrap.Buffered;
using Loadshift.Lab;
using Loadshift.Testing;
using Xunit.Abstractions;

namespace Loadshift.Cli.Tests;

/// <summary>loadshift against the real Rebalancer on the lab (real libvirt, live migrations, a real Prometheus): each
/// automation level, and watch in a real terminal (tmux) during a live migration. Domains move by drain (an operator's
/// request, no load needed); every test puts every VM back on its home host. Needs the lab (lab/up), under the lab lock.</summary>
[Trait("Category", "Lab")]
public sealed class LabTests(LabPrometheus prometheus, ITestOutputHelper output) : IClassFixture<LabPrometheus>
{
    private static readonly TimeSpan Migration = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task In_manual_nothing_moves_until_approve_and_watch_shows_the_migration_as_it_happens()
    {
        using var rebalancer = new LabRebalancer(prometheus, "manual");
        await using var cleanup = new Cleanup(rebalancer, prometheus.Lab);
        await rebalancer.ReadyAsync(TimeSpan.FromSeconds(60));
        using var watch = new Tmux(rebalancer.Environment);

        Assert.True((await rebalancer.RunAsync("drain", "hv1")).ExitCode == 0);

        var recommendation = await UntilAsync(async () =>
        {
            var waiting = (await rebalancer.JsonAsync("status")).GetProperty("recommendations");
            return (waiting.GetArrayLength() > 0, waiting.GetArrayLength() > 0 ? waiting[0] : default);
        }, "a recommendation to move a domain off hv1", TimeSpan.FromSeconds(60));
        var id = recommendation.GetProperty("decisionId").GetInt64();
        var domain = recommendation.GetProperty("domain").GetString()!;
        Assert.Equal("drain", recommendation.GetProperty("kind").GetString());
        // Passes every 2 s for 10 s: nothing moves, the recommendation stays the only one.
        await Task.Delay(TimeSpan.FromSeconds(10));
        var placement = await rebalancer.PlacementAsync();
        Assert.All(prometheus.Lab.Vms.Where(v => v.HomeHost == "hv1"), v => Assert.Equal("hv1", placement[v.Name]));
        Assert.Equal(0, (await rebalancer.JsonAsync("history", "--kind", "drain")).GetProperty("migrations").GetArrayLength());
        var waitingScreen = await watch.WaitForAsync(s => s.Contains($"loadshift approve {id}", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        output.WriteLine($"--- watch, waiting for approval:\n{waitingScreen}");

        var approved = await rebalancer.RunAsync("approve", $"{id}");
        Assert.True(approved.ExitCode == 0, $"{approved}\n--- rebalancer\n{rebalancer.Output}");
        var target = recommendation.GetProperty("target").GetString()!;

        // The watch view while the migration runs: its row with libvirt's figures (copied share, bytes).
        var migrating = await watch.WaitForAsync(s => MigratingRow(domain).IsMatch(s), Migration);
        output.WriteLine($"--- watch, during the migration:\n{migrating}");
        Capture("watch-migration.txt", migrating);
        Assert.Matches($@"hv1\s+\S*\s+[█░│]+", migrating);
        await UntilAsync(async () => ((await rebalancer.PlacementAsync()).GetValueOrDefault(domain) == target, 0), $"{domain} on {target}", Migration);
        var explained = await rebalancer.JsonAsync("explain", $"{id}");
        Assert.Equal("succeeded", Assert.Single(explained.GetProperty("migrations").EnumerateArray()).GetProperty("outcome").GetString());
        var statusScreen = await rebalancer.RunAsync("status");
        Capture("status.txt", statusScreen.Stdout);
        output.WriteLine($"--- status:\n{statusScreen.Stdout}");
    }

    [Fact]
    public async Task In_partial_the_drain_acts_and_the_return_home_waits_for_approve()
    {
        using var rebalancer = new LabRebalancer(prometheus, "partial");
        await using var cleanup = new Cleanup(rebalancer, prometheus.Lab);
        await rebalancer.ReadyAsync(TimeSpan.FromSeconds(60));

        Assert.True((await rebalancer.RunAsync("drain", "hv1")).ExitCode == 0);
        // No approve was given: a drain acts in partial.
        var moved = await UntilAsync(async () =>
        {
            var history = await rebalancer.JsonAsync("history", "--kind", "drain");
            var done = history.GetProperty("migrations").EnumerateArray().FirstOrDefault(m => m.GetProperty("outcome").GetString() == "succeeded");
            return (done.ValueKind == JsonValueKind.Object, done.ValueKind == JsonValueKind.Object ? done.GetProperty("domain").GetString() : null);
        }, "a drain migration without approval", Migration);
        Assert.Equal(0, (await rebalancer.JsonAsync("status")).GetProperty("recommendations").EnumerateArray()
            .Count(r => r.GetProperty("kind").GetString() == "drain"));
        Assert.True((await rebalancer.RunAsync("undrain", "hv1")).ExitCode == 0);
        await NoMigrationInFlightAsync(rebalancer);

        var recommendation = await UntilAsync(async () =>
        {
            var waiting = (await rebalancer.JsonAsync("status")).GetProperty("recommendations");
            var home = waiting.EnumerateArray().FirstOrDefault(r => r.GetProperty("kind").GetString() == "return_home");
            return (home.ValueKind == JsonValueKind.Object, home);
        }, "a return home waiting for approval", TimeSpan.FromSeconds(90));
        var domain = recommendation.GetProperty("domain").GetString()!;
        await Task.Delay(TimeSpan.FromSeconds(6));
        Assert.NotEqual("hv1", (await rebalancer.PlacementAsync())[domain]);

        Assert.True((await rebalancer.RunAsync("approve", $"{recommendation.GetProperty("decisionId").GetInt64()}")).ExitCode == 0);
        await UntilAsync(async () => ((await rebalancer.PlacementAsync())[domain] == "hv1", 0), $"{domain} home on hv1", Migration);
        output.WriteLine($"drain moved {moved}; {domain} came home once approved");
    }

    [Fact]
    public async Task In_full_the_drain_and_the_return_home_act_alone()
    {
        using var rebalancer = new LabRebalancer(prometheus, "full");
        await using var cleanup = new Cleanup(rebalancer, prometheus.Lab);
        await rebalancer.ReadyAsync(TimeSpan.FromSeconds(60));

        Assert.True((await rebalancer.RunAsync("drain", "hv1")).ExitCode == 0);
        var moved = await UntilAsync(async () =>
        {
            var placement = await rebalancer.PlacementAsync();
            var away = prometheus.Lab.Vms.FirstOrDefault(v => v.HomeHost == "hv1" && placement.GetValueOrDefault(v.Name) is { } host && host != "hv1")?.Name;
            return (away is not null, away);
        }, "a domain off hv1", Migration);
        Assert.True((await rebalancer.RunAsync("undrain", "hv1")).ExitCode == 0);

        await UntilAsync(async () =>
        {
            var placement = await rebalancer.PlacementAsync();
            return (prometheus.Lab.Vms.Where(v => v.HomeHost == "hv1").All(v => placement.GetValueOrDefault(v.Name) == "hv1"), 0);
        }, "every domain home on hv1 without approval", TimeSpan.FromSeconds(180));
        Assert.Equal(0, (await rebalancer.JsonAsync("status")).GetProperty("recommendations").GetArrayLength());
        Assert.NotEmpty((await rebalancer.JsonAsync("history", "--kind", "return_home")).GetProperty("migrations").EnumerateArray());
        output.WriteLine($"drain moved {moved}; it came home alone");
    }

    /// <summary>The domain's row under "Migrations in flight" with libvirt's job statistics, a total above zero:
    /// "62% 80 MiB of 129 MiB".</summary>
    private static Regex MigratingRow(string domain) =>
        new($@"{Regex.Escape(domain)}\s.*hv1 -> hv\d.*\d+% [\d.]+ [KMG]?i?B of [1-9][\d.]* [KMG]iB", RegexOptions.None, TimeSpan.FromSeconds(1));

    private static async Task NoMigrationInFlightAsync(LabRebalancer rebalancer) =>
        await UntilAsync(async () => ((await rebalancer.JsonAsync("status")).GetProperty("migrationsInFlight").GetArrayLength() == 0, 0),
            "no migration in flight", Migration);

    /// <summary>With LOADSHIFT_CAPTURE_DIR set, keeps a screen for the README.</summary>
    private static void Capture(string name, string text)
    {
        if (Environment.GetEnvironmentVariable("LOADSHIFT_CAPTURE_DIR") is { Length: > 0 } dir)
        {
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, name), text);
        }
    }

    /// <summary>Polls every 500 ms until the probe says done; its value.</summary>
    private static async Task<T> UntilAsync<T>(Func<Task<(bool Done, T Value)>> probe, string what, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            var (done, value) = await probe();
            if (done)
            {
                return value;
            }
            await Task.Delay(500);
        }
        throw new Xunit.Sdk.XunitException($"timed out after {timeout.TotalSeconds:0} s waiting for: {what}");
    }

    /// <summary>Whatever happened: hv1 out of maintenance, the Rebalancer stopped, every VM back on its home host
    /// (lab/migrate), so that the next test finds the lab as lab/up left it.</summary>
    private sealed class Cleanup(LabRebalancer rebalancer, LabState lab) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await rebalancer.RunAsync("undrain", "hv1");
            rebalancer.Dispose();
            foreach (var vm in lab.Vms)
            {
                var where = await CliWrap.Cli.Wrap("virsh").WithArguments(["-c", lab.Hosts.Single(h => h.Name == vm.HomeHost).LibvirtUri, "domstate", "--domain", vm.Name])
                    .WithValidation(CommandResultValidation.None).ExecuteBufferedAsync();
                if (where.ExitCode != 0 || where.StandardOutput.Trim() != "running")
                {
                    Tool.RunOk(Path.Combine(RepositoryRoot.Path, "lab", "migrate"), [vm.Name, vm.HomeHost], RepositoryRoot.Path, TimeSpan.FromMinutes(3));
                }
            }
        }
    }
}
