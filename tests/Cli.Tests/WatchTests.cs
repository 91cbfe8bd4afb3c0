using System.Text.RegularExpressions;
using Loadshift.Rebalancer.Execution;
using Loadshift.Rebalancer.Tests.Support;

namespace Loadshift.Cli.Tests;

/// <summary>loadshift watch in a real terminal (tmux) against a running Rebalancer whose migration libvirt holds in
/// flight with job statistics (libvirt swapped; the lab test does it with a real migration): the progress bar, then
/// the migration gone and the decision listed.</summary>
public sealed class WatchTests : IDisposable
{
    private readonly RunningRebalancer rebalancer = new(f =>
    {
        f.Hypervisor.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        f.Hypervisor.Jobs["vm2"] = new JobProgress(TotalBytes: 134_217_728, RemainingBytes: 50_331_648, ProcessedBytes: 83_886_080);
    });

    public void Dispose()
    {
        rebalancer.Factory.Hypervisor.Hold?.TrySetResult();
        rebalancer.Dispose();
    }

    [Fact]
    public async Task Watch_shows_the_hosts_the_migrations_progress_and_then_the_decision()
    {
        using var watch = new Tmux(rebalancer.Environment);
        var first = await watch.WaitForAsync(s => s.Contains("HOST", StringComparison.Ordinal), TimeSpan.FromSeconds(20));
        Assert.Contains("Migrations in flight none", first, StringComparison.Ordinal);

        using var client = rebalancer.Factory.CreateAuthorizedClient();
        using var firing = new StringContent(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Payloads", "firing-hv1.json")),
            System.Text.Encoding.UTF8, "application/json");
        (await client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative), firing)).Dispose();

        // 128 MiB to copy, 48 MiB left: 62.5% copied, shown as 63%.
        var migrating = await watch.WaitForAsync(s => s.Contains("63% 80 MiB of 128 MiB", StringComparison.Ordinal), TimeSpan.FromSeconds(20));
        Assert.Matches(new Regex(@"vm2\s+hv1 -> hv2\s+\d\d:\d\d:\d\d\s+█{19}░{11}  63% 80 MiB of 128 MiB"), migrating);
        Assert.Matches(new Regex(@"hv1\s+█{19}░ 0\.93\s+.*cpu alert"), migrating);
        Capture("watch-held-migration.txt", migrating);

        rebalancer.Factory.Hypervisor.Hold!.SetResult();
        var after = await watch.WaitForAsync(s => s.Contains("Migrations in flight none", StringComparison.Ordinal)
            && s.Contains("relief   hv1", StringComparison.Ordinal), TimeSpan.FromSeconds(20));
        Assert.Matches(new Regex(@"relief\s+hv1\s+migrate\s+overloaded\s+vm2 hv1 -> hv2"), after);
    }

    private static void Capture(string name, string text)
    {
        if (Environment.GetEnvironmentVariable("LOADSHIFT_CAPTURE_DIR") is { Length: > 0 } dir)
        {
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, name), text);
        }
    }
}
