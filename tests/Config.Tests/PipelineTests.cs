using System.Text.Json;

namespace Loadshift.Config.Tests;

/// <summary>
/// The rendered configurations in the real programs: Prometheus scrapes a stand-in exporter whose host turns
/// busy, evaluates the project's rules, and Alertmanager delivers HypervisorCpuHigh, then its resolution, to a
/// stand-in Rebalancer's webhook with the bearer token from the credentials file.
/// </summary>
public sealed class PipelineTests
{
    private static readonly TimeSpan DeliveryTimeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task HypervisorCpuHigh_reaches_the_rebalancer_webhook_and_resolves()
    {
        using var temp = new TempDirectory();
        using var exporter = new FakeExporter(busy: 0.95);
        using var rebalancer = new FakeRebalancer();
        var prometheusPort = Loopback.FreePort();
        var alertmanagerPort = Loopback.FreePort();
        File.WriteAllText(temp.Combine("targets.yml"), $"- targets: ['{exporter.Address}']\n  labels: {{host: hv1}}\n");

        // The demo's kind of short durations, set by flags only.
        Tool.RunOk(Path.Combine(Repository.Prometheus, "render"),
        [
            temp.Combine("prometheus"),
            "--scrape-interval", "1s", "--evaluation-interval", "1s", "--cpu-high-for", "3s",
            "--targets-file", temp.Combine("targets.yml"),
            "--rebalancer-url", rebalancer.Url,
            "--alertmanager-url", $"http://127.0.0.1:{alertmanagerPort}",
            "--prometheus-url", $"http://127.0.0.1:{prometheusPort}",
        ]);
        using var alertmanager = new RenderedAlertmanager(temp, rebalancer.Url, "pipeline-token", alertmanagerPort);
        using var prometheus = new BackgroundProcess("prometheus",
        [
            $"--config.file={temp.Combine("prometheus", "prometheus.yml")}",
            $"--storage.tsdb.path={temp.Combine("prometheus-data")}",
            $"--web.listen-address=127.0.0.1:{prometheusPort}",
        ], temp.Path);
        string Logs() => $"--- prometheus\n{prometheus.Output}\n--- alertmanager\n{alertmanager.Output}";

        var firing = await rebalancer.NextDeliveryAsync(DeliveryTimeout, Logs);

        Assert.Equal("Bearer pipeline-token", firing.Authorization);
        using (var payload = JsonDocument.Parse(firing.Body))
        {
            var root = payload.RootElement;
            Assert.Equal("4", root.GetProperty("version").GetString());
            Assert.Equal("firing", root.GetProperty("status").GetString());
            Assert.Equal("rebalancer", root.GetProperty("receiver").GetString());
            Assert.Equal("hv1", root.GetProperty("groupLabels").GetProperty("host").GetString());
            var alert = Assert.Single(root.GetProperty("alerts").EnumerateArray());
            var labels = alert.GetProperty("labels");
            Assert.Equal("HypervisorCpuHigh", labels.GetProperty("alertname").GetString());
            Assert.Equal("hv1", labels.GetProperty("host").GetString());
            Assert.Equal("rebalance", labels.GetProperty("action").GetString());
            Assert.Equal("warning", labels.GetProperty("severity").GetString());
            Assert.StartsWith("Host hv1 has been 9", alert.GetProperty("annotations").GetProperty("description").GetString(), StringComparison.Ordinal);
        }

        // The load falls: the 1m ratio drops under 0.80 within seconds, and the resolution is delivered.
        exporter.Busy = 0.05;
        var resolved = await rebalancer.NextDeliveryAsync(DeliveryTimeout, Logs);

        Assert.Equal("Bearer pipeline-token", resolved.Authorization);
        using (var payload = JsonDocument.Parse(resolved.Body))
        {
            var root = payload.RootElement;
            Assert.Equal("resolved", root.GetProperty("status").GetString());
            var alert = Assert.Single(root.GetProperty("alerts").EnumerateArray());
            Assert.Equal("resolved", alert.GetProperty("status").GetString());
            Assert.Equal("hv1", alert.GetProperty("labels").GetProperty("host").GetString());
        }
    }
}
