using System.Globalization;
using System.Net;
using System.Text.Json;
using Xunit.Abstractions;

namespace Loadshift.Faults.Tests;

[CollectionDefinition(Name)]
public sealed class LoadedHostGroup : ICollectionFixture<FullLoop>
{
    public const string Name = "loaded host";
}

/// <summary>Issue 13's faults around the webhook, with hv1 overloaded for real (lab/load on its three VMs, as the
/// demo does) so that the Rebalancer has a relief to make: item 8 (1,000 notifications in 10 s) and item 4
/// (Prometheus down when the webhook arrives).</summary>
[Trait("Category", "Lab")]
[Collection(LoadedHostGroup.Name)]
public sealed class LoadedHostTests(FullLoop loop, ITestOutputHelper output)
{
    private const string Busy = "host:hypervisor_cpu_busy:ratio_rate1m{host=\"hv1\"} > 0.8";

    private readonly FaultRun run = new(loop, output);

    [Fact]
    public async Task A_thousand_webhooks_in_ten_seconds_make_at_most_one_migration()
    {
        await run.EveryVmHomeAsync(TimeSpan.FromMinutes(3));
        double recovered;
        IReadOnlyList<Rebalancer.Journal.MigrationRecord> moves;
        var fingerprint = $"flood-{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}";
        var episode = DateTimeOffset.UtcNow.AddSeconds(-30);
        using (Load())
        {
            await FaultRun.UntilAsync(async () => await loop.SeriesAsync(Busy) > 0, TimeSpan.FromMinutes(2), "hv1 over 0.8 under lab/load");
            var floodStart = DateTimeOffset.UtcNow;
            // 700 repeats of the alert that fires now, 200 resolved and 100 firing notifications of an earlier episode
            // of the same alert (an hour before), all shuffled and sent 20 at a time: duplicated and out of order.
            var bodies = Enumerable.Repeat(Payloads.Firing("hv1", fingerprint, episode), 700)
                .Concat(Enumerable.Repeat(Payloads.Resolved("hv1", fingerprint, episode.AddHours(-1)), 200))
                .Concat(Enumerable.Repeat(Payloads.Firing("hv1", fingerprint, episode.AddHours(-1)), 100))
                .OrderBy(_ => Random.Shared.Next()).ToList();
            var codes = new int[bodies.Count];
            await Parallel.ForEachAsync(Enumerable.Range(0, bodies.Count), new ParallelOptions { MaxDegreeOfParallelism = 20 }, async (i, ct) =>
            {
                // Paced: request i goes out no earlier than i/100 s after the start, so the 1,000 take 10 s.
                var due = floodStart.AddMilliseconds(i * 10) - DateTimeOffset.UtcNow;
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due, ct);
                }
                using var response = await loop.PostWebhookAsync(bodies[i]);
                codes[i] = (int)response.StatusCode;
            });
            var floodSeconds = (DateTimeOffset.UtcNow - floodStart).TotalSeconds;
            run.Say($"1,000 webhooks in {floodSeconds:0.0} s: {string.Join(", ", codes.GroupBy(c => c).Select(g => $"{g.Key}: {g.Count()}"))}");
            Assert.All(codes, c => Assert.Equal(202, c));
            Assert.InRange(floodSeconds, 9, 15);

            // The flood and the 15 s after it: at most one migration started.
            await Task.Delay(floodStart.AddSeconds(25) - DateTimeOffset.UtcNow);
            var started = (await loop.MigrationsAsync()).Where(m => m.StartedAt >= floodStart.AddSeconds(-5)).ToList();
            run.Say($"migrations started: {FaultRun.Results(started)}");
            Assert.True(started.Count <= 1, $"{started.Count} migrations: {string.Join("; ", started.Select(FaultRun.Describe))}");
        }
        using (var resolved = await loop.PostWebhookAsync(Payloads.Resolved("hv1", fingerprint, episode)))
        {
            Assert.Equal(HttpStatusCode.Accepted, resolved.StatusCode);
        }
        (recovered, moves) = await run.RecoveredAsync(DateTimeOffset.UtcNow);
        var sees = await run.AlertsAsExpectedAsync(moves);
        await run.FinishAsync("8. 1,000 webhooks in 10 s (20 at a time; 700 repeats, 300 of an earlier episode, shuffled) with hv1 overloaded",
            FaultRun.Results(moves), sees, recovered, "nothing");
    }

    [Fact]
    public async Task Prometheus_down_when_the_webhook_arrives()
    {
        await run.EveryVmHomeAsync(TimeSpan.FromMinutes(3));
        var fingerprint = $"no-prometheus-{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}";
        var startsAt = DateTimeOffset.UtcNow;
        DateTimeOffset back;
        using (Load())
        {
            await FaultRun.UntilAsync(async () => await loop.SeriesAsync(Busy) > 0, TimeSpan.FromMinutes(2), "hv1 over 0.8 under lab/load");
            loop.StopPrometheus();
            run.Say("Prometheus stopped");
            using (var webhook = await loop.PostWebhookAsync(Payloads.Firing("hv1", fingerprint, startsAt)))
            {
                Assert.Equal(HttpStatusCode.Accepted, webhook.StatusCode);
            }
            // Passes run without metrics: no move, and the status says why.
            await Task.Delay(TimeSpan.FromSeconds(15));
            using var status = JsonDocument.Parse(await loop.Http.GetStringAsync(new Uri($"{loop.RebalancerUrl}/api/v1/status")));
            var metricsError = status.RootElement.GetProperty("metricsError").GetString();
            run.Say($"status without Prometheus: metricsError {metricsError}");
            Assert.NotNull(metricsError);
            Assert.DoesNotContain(await loop.MigrationsAsync(), m => m.StartedAt >= startsAt);

            loop.StartPrometheus();
            await loop.WaitForPrometheusAsync();
            back = DateTimeOffset.UtcNow;
            run.Say("Prometheus started again");
            // The alert journaled while Prometheus was down is acted on once it answers: a relief off hv1.
            await FaultRun.UntilAsync(async () => (await loop.MigrationsAsync()).Any(m => m.StartedAt >= back && m.Source == "hv1"),
                TimeSpan.FromMinutes(2), "a relief off hv1 once Prometheus is back");
        }
        var relief = (await loop.MigrationsAsync()).Where(m => m.StartedAt >= back && m.Source == "hv1").MinBy(m => m.Id)!;
        var actedAfter = (relief.StartedAt - back).TotalSeconds;
        using (var resolved = await loop.PostWebhookAsync(Payloads.Resolved("hv1", fingerprint, startsAt)))
        {
            Assert.Equal(HttpStatusCode.Accepted, resolved.StatusCode);
        }
        var (_, moves) = await run.RecoveredAsync(DateTimeOffset.UtcNow);
        relief = moves.Single(m => m.Id == relief.Id);
        var sees = await run.AlertsAsExpectedAsync(moves);
        await run.FinishAsync("4. Prometheus stopped when the webhook arrives, started 15 s later (hv1 overloaded)",
            $"202, no move while metrics are missing; relief {relief.Domain} {relief.Source}->{relief.Target} {relief.Result} " +
            $"{actedAfter.ToString("0.0", CultureInfo.InvariantCulture)} s after Prometheus was back", $"{sees}; /api/v1/status metricsError", actedAfter, "nothing");
    }

    /// <summary>lab/load on hv1's three VMs at 2.5 CGI requests a second each: hv1 goes over 0.8. Not the demo's 2, at
    /// which hv1 sits at the edge of its capacity (docs/lab.md): on the quiet machine of a CI run (2026-12-03, 20:45
    /// UTC) it stayed under 0.8 for 2 minutes. Once one VM has moved, the two left stay under the high watermark.</summary>
    private BackgroundProcess Load() =>
        new(Path.Combine(RepositoryRoot.Path, "lab", "load"), ["--vm", string.Join(",", loop.Lab.Vms.Where(v => v.HomeHost == "hv1").Select(v => v.Name)),
            "--rate", "2.5", "--duration", "10m"], RepositoryRoot.Path);
}
