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

    [Fact]
    public async Task A_pending_recommendation_reaches_people_with_the_command_that_approves_it_and_not_the_rebalancer()
    {
        using var temp = new TempDirectory();
        using var exporter = new FakeExporter(busy: 0.05);
        // The Rebalancer's series while decision 42 waits for approval (policy.automation: partial).
        using var rebalancer = new FakeRebalancer(
            "# TYPE rebalancer_recommendation_pending gauge\n" +
            "rebalancer_recommendation_pending{decision=\"42\",kind=\"return_home\",domain=\"vm2\",source=\"hv2\",target=\"hv1\"} 1\n");
        var toPeople = System.Threading.Channels.Channel.CreateUnbounded<string>();
        using var people = new FakeHttpServer((request, body) =>
        {
            toPeople.Writer.TryWrite(body);
            return (200, "");
        });
        var prometheusPort = Loopback.FreePort();
        var alertmanagerPort = Loopback.FreePort();
        File.WriteAllText(temp.Combine("targets.yml"), $"- targets: ['{exporter.Address}']\n  labels: {{host: hv1}}\n");
        Tool.RunOk(Path.Combine(Repository.Prometheus, "render"),
        [
            temp.Combine("prometheus"), "--scrape-interval", "1s", "--evaluation-interval", "1s",
            "--targets-file", temp.Combine("targets.yml"), "--rebalancer-url", rebalancer.Url,
            "--alertmanager-url", $"http://127.0.0.1:{alertmanagerPort}", "--prometheus-url", $"http://127.0.0.1:{prometheusPort}",
        ]);
        using var alertmanager = new RenderedAlertmanager(temp, rebalancer.Url, "pipeline-token", alertmanagerPort, $"{people.Url}/alerts");
        using var prometheus = new BackgroundProcess("prometheus",
        [
            $"--config.file={temp.Combine("prometheus", "prometheus.yml")}",
            $"--storage.tsdb.path={temp.Combine("prometheus-data")}",
            $"--web.listen-address=127.0.0.1:{prometheusPort}",
        ], temp.Path);

        using var cancellation = new CancellationTokenSource(DeliveryTimeout);
        string body;
        try
        {
            body = await toPeople.Reader.ReadAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No notification to the operators within {DeliveryTimeout}.\n--- prometheus\n{prometheus.Output}\n--- alertmanager\n{alertmanager.Output}");
        }

        using var payload = JsonDocument.Parse(body);
        Assert.Equal("operators", payload.RootElement.GetProperty("receiver").GetString());
        var alert = Assert.Single(payload.RootElement.GetProperty("alerts").EnumerateArray());
        Assert.Equal("RebalancerRecommendationPending", alert.GetProperty("labels").GetProperty("alertname").GetString());
        Assert.Equal("42", alert.GetProperty("labels").GetProperty("decision").GetString());
        Assert.Contains("Approve: loadshift approve 42", alert.GetProperty("annotations").GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, rebalancer.Pending);
    }
}
