using System.Text.RegularExpressions;

namespace Loadshift.Config.Tests;

/// <summary>The committed Alertmanager configuration, judged by the real amtool.</summary>
public sealed partial class AmtoolTests
{
    /// <summary>Every committed alert with its own labels and a host, and the receiver it must reach.</summary>
    public static TheoryData<string, string> AlertsAndReceivers
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var alert in Rule.CommittedAlerts)
            {
                var receiver = alert.Labels.GetValueOrDefault("action") == "rebalance" ? "rebalancer"
                    : alert.Alert == "RebalancerRecommendationPending" ? "operators" : "default";
                data.Add(alert.Alert!, receiver);
            }

            return data;
        }
    }

    [Fact]
    public void Alertmanager_yml_passes_amtool_check_config()
    {
        var result = Tool.RunOk("amtool", ["check-config", Repository.AlertmanagerConfig]);

        Assert.Contains("SUCCESS", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rebalance_alert_goes_to_the_rebalancer_and_only_there()
    {
        var result = RouteTest(Repository.AlertmanagerConfig, "rebalancer",
            ["alertname=HypervisorCpuHigh", "action=rebalance", "host=hv1", "severity=warning"]);

        Assert.Equal("rebalancer", result.Stdout.Trim());
    }

    [Fact]
    public void A_recommendation_goes_to_people_and_never_to_the_rebalancer()
    {
        var result = RouteTest(Repository.AlertmanagerConfig, "operators",
            ["alertname=RebalancerRecommendationPending", "decision=42", "kind=return_home", "domain=vm2", "severity=info"]);

        Assert.Equal("operators", result.Stdout.Trim());
        var config = Yaml.Load(Repository.AlertmanagerConfig);
        var operators = config.Seq("receivers").Maps().Single(r => r.Str("name") == "operators");
        var url = Assert.Single(operators.Seq("webhook_configs").Maps()).Str("url");
        Assert.DoesNotContain("/api/v1/webhook", url, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("alertname=HypervisorExporterDown", "host=hv1", "severity=critical")]
    [InlineData("alertname=RebalancerDown", "severity=critical")]
    [InlineData("alertname=HypervisorCpuHigh", "host=hv1", "severity=warning")]
    [InlineData("alertname=Anything", "action=page")]
    public void Other_alerts_go_to_the_default_receiver(params string[] labels)
    {
        var result = RouteTest(Repository.AlertmanagerConfig, "default", labels);

        Assert.Equal("default", result.Stdout.Trim());
    }

    [Theory]
    [MemberData(nameof(AlertsAndReceivers))]
    public void Every_committed_alert_reaches_its_receiver(string alertname, string receiver)
    {
        var alert = Rule.CommittedAlerts.Single(a => a.Alert == alertname);
        string[] labels = [$"alertname={alertname}", "host=hv1", .. alert.Labels.Select(l => $"{l.Key}={l.Value}")];

        var result = RouteTest(Repository.AlertmanagerConfig, receiver, labels);

        Assert.Equal(receiver, result.Stdout.Trim());
    }

    [Fact]
    public void Only_HypervisorCpuHigh_and_HypervisorMemoryHigh_ask_for_a_rebalance()
    {
        var rebalance = Rule.CommittedAlerts.Where(a => a.Labels.ContainsKey("action")).Select(a => $"{a.Alert} {a.Labels["action"]}");

        Assert.Equal(["HypervisorCpuHigh rebalance", "HypervisorMemoryHigh rebalance"], rebalance);
    }

    [Fact]
    public void The_rebalancer_receiver_sends_resolved_with_a_bearer_token_file_grouped_by_host()
    {
        var config = Yaml.Load(Repository.AlertmanagerConfig);
        var route = config.Map("route").Seq("routes").Maps().Single(r => r.Str("receiver") == "rebalancer");
        var receiver = config.Seq("receivers").Maps().Single(r => r.Str("name") == "rebalancer");
        var webhook = Assert.Single(receiver.Seq("webhook_configs").Maps());
        var authorization = webhook.Map("http_config").Map("authorization");

        Assert.Equal(["action=\"rebalance\""], route.Seq("matchers").Strings());
        Assert.Equal(["alertname", "host"], route.Seq("group_by").Strings());
        Assert.Equal("5s", route.Str("group_wait"));
        Assert.Equal("http://127.0.0.1:10180/api/v1/webhook", webhook.Str("url"));
        Assert.Equal("true", webhook.Str("send_resolved"));
        Assert.Equal("Bearer", authorization.Str("type"));
        // The token goes with every request: a redirect must not carry it elsewhere.
        Assert.Equal("false", webhook.Map("http_config").Str("follow_redirects"));
        Assert.StartsWith("/", authorization.Str("credentials_file"), StringComparison.Ordinal);
        Assert.Null(authorization.Get("credentials"));
        // The default receiver has no integration (documented in alertmanager.yml and docs/runbook.md).
        var @default = config.Seq("receivers").Maps().Single(r => r.Str("name") == "default");
        Assert.Equal(["name"], @default.Children.Keys.Select(k => k.ToString()));
    }

    [Fact]
    public void No_inhibit_rule_can_mute_the_rebalance_alert()
    {
        // A muted alert's resolved notification is muted too, and the Rebalancer keeps an alert firing until it
        // hears it resolved (InhibitionTests shows the resolution getting through while its host's exporter is
        // down). Every rule names the alerts it mutes, and none of them asks for a rebalance.
        var rules = Yaml.Load(Repository.AlertmanagerConfig).Seq("inhibit_rules").Maps().ToList();
        var rebalanceAlerts = Rule.CommittedAlerts.Where(a => a.Labels.ContainsKey("action")).Select(a => a.Alert!).ToList();

        Assert.NotEmpty(rules);
        Assert.Equal(["HypervisorCpuHigh", "HypervisorMemoryHigh"], rebalanceAlerts);
        foreach (var rule in rules)
        {
            var targets = rule.Seq("target_matchers").Strings().ToList();
            var alertname = Assert.Single(targets, t => t.StartsWith("alertname", StringComparison.Ordinal));
            Assert.DoesNotContain(targets, t => t.StartsWith("action", StringComparison.Ordinal) || t.StartsWith("severity", StringComparison.Ordinal));
            var names = AlertnameMatcher().Match(alertname);
            Assert.True(names.Success, $"target matcher {alertname}: alertname= or alertname=~ with a list of names");
            var muted = names.Groups["names"].Value.Split('|');
            Assert.All(muted, name => Assert.Contains(name, Rule.CommittedAlerts.Select(a => a.Alert)));
            Assert.All(rebalanceAlerts, name => Assert.DoesNotContain(name, muted));
        }
    }

    internal static ToolResult RouteTest(string configFile, string expectedReceiver, IEnumerable<string> labels) =>
        Tool.RunOk("amtool", ["config", "routes", "test", $"--config.file={configFile}", $"--verify.receivers={expectedReceiver}", .. labels]);

    [GeneratedRegex("""^alertname=~?"(?<names>[A-Za-z|]+)"$""")]
    private static partial Regex AlertnameMatcher();
}
