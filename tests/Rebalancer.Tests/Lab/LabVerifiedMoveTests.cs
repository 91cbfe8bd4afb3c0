using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Loadshift.Rebalancer.Execution;
using Loadshift.Rebalancer.Inventory;
using Loadshift.Rebalancer.Journal;
using Loadshift.Lab;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Xunit.Abstractions;

namespace Loadshift.Rebalancer.Tests.Lab;

/// <summary>A real move's verdict on the lab: the lab's exporters scraped by a real Prometheus with the committed
/// recording rules, load on hv1's VMs, the whole Rebalancer in process with nothing swapped (virsh, Prometheus,
/// the journal on a file), HypervisorCpuHigh for hv1 posted to its webhook. The relief moves a VM off hv1; once
/// policy.verifyAfter has passed, the API shows the move's verdict with the busy ratios Prometheus had, the decision
/// carries it, and the metric counts it. Needs the lab (lab/up) with vm1..vm3 at home on hv1; leaves them there.</summary>
[Trait("Category", "Lab")]
[Collection(LabFixture.Collection)]
public sealed class LabVerifiedMoveTests(LabFixture lab, ITestOutputHelper output) : IDisposable
{
    /// <summary>The lab inventory's settleTime (src/Rebalancer/lab-inventory): hv1's 1m busy ratio shows the move by then.</summary>
    private static readonly TimeSpan VerifyAfter = TimeSpan.FromSeconds(75);

    private readonly TempDirectory directory = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        directory.Dispose();
    }

    [Fact]
    public async Task A_relief_moves_verdict_is_verified_from_Prometheus_and_shown_by_the_API()
    {
        var home = await lab.AllHomeAsync("hv1");

        // Stopped in the finally below (once: BackgroundProcess stops once). 2.5 requests a second per VM, not the
        // demo's 2: at 2, hv1 sits at the edge of its capacity by design (docs/lab.md: 87 to 108% busy), and on a
        // quiet machine, where a request costs less CPU, it stayed under 0.85 for 150 s (CI run of 2026-12-03, 20:40
        // UTC). Not more: once one VM has moved, the two left (5 requests a second at 65 to 90 ms of CPU each: 54 to
        // 75% of hv1's 0.6 of a core) must keep hv1 under the high watermark, or a second relief would move another VM.
        var load = LabFixture.Load(home, 2.5, TimeSpan.FromSeconds(300));
        try
        {
            await LabFixture.WaitAsync(async () => await lab.ValueAsync("host:hypervisor_cpu_busy:ratio_rate1m{host=\"hv1\"}") > 0.85,
                "hv1 busy over 0.85 under the load", TimeSpan.FromSeconds(150));
            using var rebalancer = new LabRebalancer(lab.Lab, lab.PrometheusUrl, directory);
            using var client = rebalancer.CreateClient();
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", LabRebalancer.Token);
            var payload = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Payloads", "firing-hv1.json"));
            using (var webhook = await client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative), new StringContent(payload, Encoding.UTF8, "application/json")))
            {
                Assert.Equal(System.Net.HttpStatusCode.Accepted, webhook.StatusCode);
            }

            JsonElement migration = default;
            await LabFixture.WaitAsync(async () =>
            {
                migration = (await JournalAsync(client, "migrations")).FirstOrDefault(m => m.GetProperty("result").GetString() != MigrationResults.Running);
                return migration.ValueKind == JsonValueKind.Object;
            }, "the relief migration ended", TimeSpan.FromSeconds(120));
            Assert.Equal(MigrationResults.Succeeded, migration.GetProperty("result").GetString());
            var moved = migration.GetProperty("domain").GetString();
            var id = migration.GetProperty("id").GetInt64();
            var ended = migration.GetProperty("endedAt").GetDateTimeOffset();

            await LabFixture.WaitAsync(async () =>
            {
                migration = (await JournalAsync(client, "migrations")).Single(m => m.GetProperty("id").GetInt64() == id);
                return migration.GetProperty("verdict").ValueKind == JsonValueKind.String;
            }, "the move's verdict", VerifyAfter + TimeSpan.FromSeconds(60));

            var verdict = migration.GetProperty("verdict").GetString()!;
            var source = migration.GetProperty("sourceBusyObserved").GetDouble();
            var target = migration.GetProperty("targetBusyObserved").GetDouble();
            var decision = (await JournalAsync(client, "decisions")).Single(d => d.GetProperty("id").GetInt64() == migration.GetProperty("decisionId").GetInt64());
            output.WriteLine($"{moved} {migration.GetProperty("source").GetString()} -> {migration.GetProperty("target").GetString()}: {verdict}, " +
                $"verified {(migration.GetProperty("verifiedAt").GetDateTimeOffset() - ended).TotalSeconds:0} s after the migration ended: " +
                migration.GetProperty("verdictDetail").GetString());

            Assert.InRange(migration.GetProperty("verifiedAt").GetDateTimeOffset() - ended, VerifyAfter, VerifyAfter + TimeSpan.FromSeconds(30));
            Assert.Equal(verdict, decision.GetProperty("verdict").GetString());
            var predicted = new MoveToVerify(id, moved!, "hv1", migration.GetProperty("target").GetString()!, ended,
                decision.GetProperty("sourceBusyBefore").GetDouble(), decision.GetProperty("sourceBusyAfter").GetDouble(),
                decision.GetProperty("targetBusyAfter").GetDouble());
            var policy = new PolicyOptions();
            Assert.Equal(MoveVerifier.Judge(predicted, source, target, policy.HighWatermark, policy.VerifyTolerance).Name, verdict);
            // The figures are Prometheus' (a busy ratio in [0, 1]), not the prediction copied.
            Assert.InRange(source, 0, 1);
            Assert.InRange(target, 0, 1);
            var metrics = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
            Assert.Contains($"rebalancer_move_verdicts_total{{verdict=\"{verdict}\"}} 1", metrics, StringComparison.Ordinal);
        }
        finally
        {
            load.Dispose();
            // The Rebalancer is stopped (disposed above); the VM goes home for the next test.
            await lab.PutHomeAsync();
        }
    }

    private static async Task<List<JsonElement>> JournalAsync(HttpClient client, string kind)
    {
        using var document = JsonDocument.Parse(await client.GetStringAsync(new Uri($"/api/v1/journal?kind={kind}&limit=50", UriKind.Relative)));
        return [.. document.RootElement.GetProperty("items").EnumerateArray().Select(e => e.Clone())];
    }

    /// <summary>The Rebalancer with the lab's inventory and nothing swapped: virsh against the lab's libvirtds, the
    /// Prometheus above, the journal and token in the test's folder.</summary>
    private sealed class LabRebalancer(LabState lab, string prometheusUrl, TempDirectory directory) : WebApplicationFactory<Program>
    {
        public const string Token = "lab-test-token-7a2e";

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            File.WriteAllText(directory.Combine("token"), Token + "\n");
            var inventory = new StringBuilder($"""
                prometheus:
                  url: {prometheusUrl}
                webhook:
                  tokenFile: {directory.Combine("token")}
                journal:
                  path: {directory.Combine("journal.db")}
                policy:
                  settleTime: {VerifyAfter.TotalSeconds:0}s
                  cooldown: 2m
                  checkInterval: 5s
                  migrationTimeout: 2m
                hosts:

                """);
            foreach (var host in lab.Hosts)
            {
                var vms = lab.Vms.Where(v => v.HomeHost == host.Name).Select(v => v.Name);
                inventory.Append(CultureInfo.InvariantCulture,
                    $"  - {{name: {host.Name}, libvirtUri: '{host.LibvirtUri}', cpuCapacity: {host.CpuQuota}, memoryBytes: {host.MemoryBytes}, home: [{string.Join(", ", vms)}]}}\n");
            }
            File.WriteAllText(directory.Combine("inventory.yaml"), inventory.ToString());
            builder.ConfigureAppConfiguration(configuration => configuration.Add(new YamlConfigurationSource(directory.Combine("inventory.yaml"))));
        }
    }
}
