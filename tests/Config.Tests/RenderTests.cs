using System.Text.Json;

namespace Loadshift.Config.Tests;

/// <summary>
/// prometheus/render and alertmanager/render: without flags they write the committed
/// configuration; with flags, a configuration that promtool/amtool accept and that holds the overridden values.
/// </summary>
public sealed class RenderTests
{
    private static string PrometheusRender => Path.Combine(Repository.Prometheus, "render");

    private static string AlertmanagerRender => Path.Combine(Repository.Alertmanager, "render");

    [Fact]
    public void Prometheus_render_without_flags_writes_the_committed_configuration()
    {
        using var temp = new TempDirectory();
        var output = temp.Combine("out");

        var result = Tool.RunOk(PrometheusRender, [output]);

        Assert.Equal(Path.Combine(output, "prometheus.yml"), result.Stdout.Trim());
        Assert.Equal(Yaml.Canonical(Yaml.Load(Repository.PrometheusConfig)), Yaml.Canonical(Yaml.Load(Path.Combine(output, "prometheus.yml"))));
        foreach (var rules in Rule.Files)
        {
            Assert.Equal(File.ReadAllText(rules), File.ReadAllText(Path.Combine(output, "rules", Path.GetFileName(rules))));
        }

        Assert.Equal(Rule.Files.Count, Directory.GetFiles(Path.Combine(output, "rules")).Length);
        Assert.Equal(
            File.ReadAllText(Path.Combine(Repository.Prometheus, "targets", "hypervisors.yml")),
            File.ReadAllText(Path.Combine(output, "targets", "hypervisors.yml")));
        Tool.RunOk("promtool", ["check", "config", Path.Combine(output, "prometheus.yml")]);
    }

    [Fact]
    public void Prometheus_render_applies_the_overrides()
    {
        using var temp = new TempDirectory();
        var output = temp.Combine("out");
        var targets = temp.Combine("lab targets.yml");
        File.WriteAllText(targets, """
            - targets: ['10.0.0.1:10179']
              labels: {host: hv1}
            - targets: ['10.0.0.9:10179']
            """);
        var services = temp.Combine("lab services.yml");
        File.WriteAllText(services, """
            - targets: ['10.0.0.101']
              labels: {domain: vm1, url: 'http://10.0.0.101:8080/index.html'}
            - targets: ['10.0.0.102']
              labels: {domain: vm2}
            """);

        Tool.RunOk(PrometheusRender,
        [
            output,
            "--cpu-high-for", "30s",
            "--high-watermark=0.7",
            "--memory-high-watermark", "0.35",
            "--memory-high-for=20s",
            "--scrape-interval", "5s",
            "--evaluation-interval", "5s",
            "--targets-file", targets,
            "--services-file", services,
            "--blackbox-url", "http://127.0.0.5:29115",
            "--rebalancer-url", "http://127.0.0.2:20180",
            "--alertmanager-url", "http://127.0.0.3:29093/",
            "--prometheus-url", "https://127.0.0.4:29090",
            "--runbook-url-base", "https://example.test/loadshift/runbook.md",
        ]);

        var config = Yaml.Load(Path.Combine(output, "prometheus.yml"));
        var global = config.Map("global");
        Assert.Equal("5s", global.Str("scrape_interval"));
        Assert.Equal("5s", global.Str("scrape_timeout"));
        Assert.Equal("5s", global.Str("evaluation_interval"));
        Assert.Equal(["127.0.0.3:29093"], config.Map("alerting").Seq("alertmanagers").Maps().Single()
            .Seq("static_configs").Maps().Single().Seq("targets").Strings());
        var jobs = config.Seq("scrape_configs").Maps().ToDictionary(j => j.Str("job_name") ?? "", StringComparer.Ordinal);
        Assert.Equal([targets], jobs["hypervisor"].Seq("file_sd_configs").Maps().Single().Seq("files").Strings());
        Assert.Equal(["127.0.0.2:20180"], StaticTargets(jobs["rebalancer"]));
        Assert.Equal(["127.0.0.3:29093"], StaticTargets(jobs["alertmanager"]));
        Assert.Equal(["127.0.0.4:29090"], StaticTargets(jobs["prometheus"]));
        Assert.Equal("https", jobs["prometheus"].Str("scheme"));

        var rendered = Rule.LoadAll(Directory.GetFiles(Path.Combine(output, "rules")));
        var cpuHigh = rendered.Single(r => r.Alert == "HypervisorCpuHigh");
        Assert.Equal("30s", cpuHigh.For);
        // keep_firing_for follows `for` unless given.
        Assert.Equal("30s", cpuHigh.KeepFiringFor);
        Assert.Equal("host:hypervisor_cpu_busy:ratio_rate1m > 0.7", cpuHigh.Expr.Trim());
        var memoryHigh = rendered.Single(r => r.Alert == "HypervisorMemoryHigh");
        Assert.Equal("20s", memoryHigh.For);
        Assert.Null(memoryHigh.KeepFiringFor);
        Assert.Equal("host:hypervisor_memory_used:ratio > 0.35", memoryHigh.Expr.Trim());
        Assert.All(rendered.Where(r => r.Alert is not null), alert => Assert.StartsWith(
            "https://example.test/loadshift/runbook.md#", alert.Annotations["runbook_url"], StringComparison.Ordinal));
        // Everything else as committed.
        Assert.Equal(
            Rule.Committed.Where(r => !Overridden(r)).Select(r => $"{r.Name} {r.Expr} {r.For}").Order(StringComparer.Ordinal),
            rendered.Where(r => !Overridden(r)).Select(r => $"{r.Name} {r.Expr} {r.For}").Order(StringComparer.Ordinal));
        Assert.Equal([services], jobs["service_http"].Seq("file_sd_configs").Maps().Single().Seq("files").Strings());
        Assert.Equal([services], jobs["service_icmp"].Seq("file_sd_configs").Maps().Single().Seq("files").Strings());
        Assert.False(Directory.Exists(Path.Combine(output, "targets")), "--targets-file and --services-file given: no example copy");

        Tool.RunOk("promtool", ["check", "config", Path.Combine(output, "prometheus.yml")]);

        // The relabeling: the targets file's host label, else the address without the port.
        var discovery = Tool.RunOk("promtool", ["check", "service-discovery", "--timeout=2s", Path.Combine(output, "prometheus.yml"), "hypervisor"]);
        using var json = JsonDocument.Parse(discovery.Stdout);
        var hosts = json.RootElement.EnumerateArray()
            .Select(t => t.GetProperty("labels"))
            .ToDictionary(l => l.GetProperty("instance").GetString()!, l => l.GetProperty("host").GetString()!, StringComparer.Ordinal);
        Assert.Equal("hv1", hosts["10.0.0.1:10179"]);
        Assert.Equal("10.0.0.9", hosts["10.0.0.9:10179"]);
        Assert.All(json.RootElement.EnumerateArray(), t => Assert.Equal("5s", t.GetProperty("labels").GetProperty("__scrape_interval__").GetString()));

        // The probe jobs: the blackbox exporter is scraped with the VM's url (HTTP) or address (ICMP) as target,
        // the url defaulting to http://<address>/; every target keeps its domain and loses the url label.
        foreach (var (job, module, expected) in new[]
        {
            ("service_http", "http_2xx", new Dictionary<string, string>(StringComparer.Ordinal) { ["vm1"] = "http://10.0.0.101:8080/index.html", ["vm2"] = "http://10.0.0.102/" }),
            ("service_icmp", "icmp", new Dictionary<string, string>(StringComparer.Ordinal) { ["vm1"] = "10.0.0.101", ["vm2"] = "10.0.0.102" }),
        })
        {
            var probes = Tool.RunOk("promtool", ["check", "service-discovery", "--timeout=2s", Path.Combine(output, "prometheus.yml"), job]);
            using var probeJson = JsonDocument.Parse(probes.Stdout);
            var labels = probeJson.RootElement.EnumerateArray().Select(t => t.GetProperty("labels")).ToList();
            Assert.Equal(2, labels.Count);
            foreach (var target in labels)
            {
                var domain = target.GetProperty("domain").GetString()!;
                Assert.Equal(expected[domain], target.GetProperty("__param_target").GetString());
                Assert.Equal(expected[domain], target.GetProperty("instance").GetString());
                Assert.Equal(module, target.GetProperty("__param_module").GetString());
                Assert.Equal("127.0.0.5:29115", target.GetProperty("__address__").GetString());
                Assert.False(target.TryGetProperty("url", out _), $"{job}: the url label is dropped");
            }
        }
    }

    [Fact]
    public void Prometheus_render_keeps_the_scrape_timeout_within_a_long_interval()
    {
        using var temp = new TempDirectory();

        Tool.RunOk(PrometheusRender, [temp.Path, "--scrape-interval", "1m"]);

        var global = Yaml.Load(temp.Combine("prometheus.yml")).Map("global");
        Assert.Equal("1m", global.Str("scrape_interval"));
        Assert.Equal("10s", global.Str("scrape_timeout"));
    }

    [Fact]
    public void A_rendered_cpu_high_for_is_what_the_alert_waits()
    {
        using var temp = new TempDirectory();
        Tool.RunOk(PrometheusRender, [temp.Path, "--cpu-high-for", "30s", "--evaluation-interval", "5s", "--scrape-interval", "5s"]);

        // 1 CPU at busy 0.92 from the start, scraped every 5 s (idle +0.4 s, user +4.6 s). The ratio exists from
        // the second sample (5s): pending from 5s, firing from 35s.
        PromtoolTestOfRendered(temp, "5s", """
              - interval: 5s
                input_series:
                  - series: 'hypervisor_cpu_seconds_total{job="hypervisor",instance="h:10179",host="hv1",cpu="0",mode="idle"}'
                    values: '0+0.4x30'
                  - series: 'hypervisor_cpu_seconds_total{job="hypervisor",instance="h:10179",host="hv1",cpu="0",mode="user"}'
                    values: '0+4.6x30'
                alert_rule_test:
                  - eval_time: 30s
                    alertname: HypervisorCpuHigh
                    exp_alerts: []
                  - eval_time: 35s
                    alertname: HypervisorCpuHigh
                    exp_alerts:
                      - exp_labels: {host: hv1, severity: warning, action: rebalance}
                        exp_annotations:
                          summary: Hypervisor CPU busy above the high watermark.
                          description: >-
                            Host hv1 has been 92% busy (1 - idle share over 1m) for longer than the alert's `for`.
                            The Rebalancer is asked to live-migrate a domain off it.
                          runbook_url: docs/runbook.md#hypervisorcpuhigh
            """);
    }

    [Fact]
    public void A_rendered_memory_high_watermark_and_for_are_what_the_memory_alert_waits_for()
    {
        using var temp = new TempDirectory();
        Tool.RunOk(PrometheusRender, [temp.Path, "--memory-high-watermark", "0.30", "--memory-high-for", "10s", "--evaluation-interval", "2s"]);

        // A 2 GiB host (the lab's hv1) scraped every 2 s: 0.25 of it used (512 MiB) until 10s, then 0.3125 (640 MiB,
        // one 128 MiB guest more) until 40s, then 0.25 again. Over 0.30 from 12s: pending from 12s, firing from 22s
        // (10s later), resolved at the first evaluation under the mark (42s). hv2, at 3 of its 10 GiB (0.30), is not
        // above the mark: never.
        PromtoolTestOfRendered(temp, "2s", """
              - interval: 2s
                input_series:
                  - series: 'hypervisor_memory_used_bytes{job="hypervisor",instance="h1:10179",host="hv1"}'
                    values: '536870912x5 671088640x14 536870912x10'
                  - series: 'hypervisor_memory_total_bytes{job="hypervisor",instance="h1:10179",host="hv1"}'
                    values: '2147483648x30'
                  - series: 'hypervisor_memory_used_bytes{job="hypervisor",instance="h2:10179",host="hv2"}'
                    values: '3221225472x30'
                  - series: 'hypervisor_memory_total_bytes{job="hypervisor",instance="h2:10179",host="hv2"}'
                    values: '10737418240x30'
                alert_rule_test:
                  - eval_time: 10s
                    alertname: HypervisorMemoryHigh
                    exp_alerts: []
                  - eval_time: 20s
                    alertname: HypervisorMemoryHigh
                    exp_alerts: []
                  - eval_time: 22s
                    alertname: HypervisorMemoryHigh
                    exp_alerts:
                      - exp_labels: {host: hv1, severity: warning, action: rebalance}
                        exp_annotations:
                          summary: Hypervisor memory use above the memory high watermark.
                          description: >-
                            Host hv1 has used 31.25% of its memory (free's used over total) for longer than the alert's `for`.
                            The Rebalancer is asked to live-migrate a domain off it.
                          runbook_url: docs/runbook.md#hypervisormemoryhigh
                  - eval_time: 42s
                    alertname: HypervisorMemoryHigh
                    exp_alerts: []
            """);
    }

    [Theory]
    [InlineData("45s", "45s")]
    [InlineData("0s", "0s")]
    public void Prometheus_render_sets_keep_firing_for_apart_from_for(string value, string expected)
    {
        using var temp = new TempDirectory();

        Tool.RunOk(PrometheusRender, [temp.Path, "--cpu-high-for", "30s", "--cpu-high-keep-firing-for", value]);

        var cpuHigh = Rule.LoadAll(Directory.GetFiles(temp.Combine("rules"))).Single(r => r.Alert == "HypervisorCpuHigh");
        Assert.Equal("30s", cpuHigh.For);
        Assert.Equal(expected, cpuHigh.KeepFiringFor);
        Tool.RunOk("promtool", ["check", "rules", temp.Combine("rules", "hypervisor-alerts.yml")]);
    }

    [Fact]
    public void Without_keep_firing_for_the_committed_edge_tests_fail()
    {
        // The guard for prometheus/tests/hypervisor-alerts.test.yml: with no hysteresis, its dip and its scrape
        // gap resolve HypervisorCpuHigh, and the tests that say it keeps firing through them must fail.
        using var temp = new TempDirectory();
        Tool.RunOk(PrometheusRender, [temp.Path, "--cpu-high-keep-firing-for", "0s"]);
        Directory.CreateDirectory(temp.Combine("tests"));
        File.Copy(Path.Combine(Repository.Prometheus, "tests", "hypervisor-alerts.test.yml"), temp.Combine("tests", "hypervisor-alerts.test.yml"));

        var result = Tool.Run("promtool", ["test", "rules", Path.Combine("tests", "hypervisor-alerts.test.yml")], temp.Path);

        Assert.NotEqual(0, result.ExitCode);
        var output = result.Stdout + result.Stderr;
        Assert.Contains("alertname: HypervisorCpuHigh, time: 5m30s", output, StringComparison.Ordinal);
        Assert.Contains("alertname: HypervisorCpuHigh, time: 9m30s", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--cpu-high-keep-firing-for", "soon")]
    [InlineData("--cpu-high-for", "2x")]
    [InlineData("--scrape-interval", "")]
    [InlineData("--scrape-timeout", "20s")]
    [InlineData("--evaluation-interval", "0s")]
    [InlineData("--high-watermark", "1.5")]
    [InlineData("--high-watermark", "80")]
    [InlineData("--cpu-high-threshold", "80")]
    [InlineData("--memory-high-watermark", "1.5")]
    [InlineData("--memory-high-watermark", "90")]
    [InlineData("--memory-high-for", "2x")]
    [InlineData("--memory-high-for", "0s")]
    [InlineData("--rebalancer-url", "127.0.0.1:10180")]
    [InlineData("--alertmanager-url", "http://127.0.0.1:9093/alertmanager")]
    [InlineData("--blackbox-url", "https://127.0.0.1:9115")]
    [InlineData("--bogus", "1")]
    public void Prometheus_render_refuses_a_bad_flag_naming_it_and_writes_nothing(string flag, string value)
    {
        using var temp = new TempDirectory();
        var output = temp.Combine("out");

        var result = Tool.Run(PrometheusRender, [output, flag, value]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(flag, result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output), result.ToString());
    }

    /// <summary>--cpu-high-threshold was the high watermark's first name (docs/glossary.md): still taken, with a warning.</summary>
    [Fact]
    public void Prometheus_render_takes_the_former_high_watermark_flag_with_a_warning()
    {
        using var temp = new TempDirectory();
        var output = temp.Combine("out");

        var result = Tool.RunOk(PrometheusRender, [output, "--cpu-high-threshold", "0.75"]);

        Assert.Contains("--cpu-high-threshold is deprecated: use --high-watermark", result.Stderr, StringComparison.Ordinal);
        var cpuHigh = Rule.LoadAll(Directory.GetFiles(Path.Combine(output, "rules"))).Single(r => r.Alert == "HypervisorCpuHigh");
        Assert.Equal("host:hypervisor_cpu_busy:ratio_rate1m > 0.75", cpuHigh.Expr.Trim());
        Assert.DoesNotContain("deprecated", Tool.RunOk(PrometheusRender, [temp.Combine("new"), "--high-watermark", "0.75"]).Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("prometheus")]
    [InlineData("alertmanager")]
    public void Render_refuses_to_write_over_the_committed_defaults(string folder)
    {
        var before = Directory.GetFiles(Path.Combine(Repository.Root, folder), "*", SearchOption.AllDirectories)
            .ToDictionary(f => f, File.ReadAllText, StringComparer.Ordinal);

        var result = Tool.Run(Path.Combine(Repository.Root, folder, "render"), [Path.Combine(Repository.Root, folder) + "/"]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("committed defaults", result.Stderr, StringComparison.Ordinal);
        Assert.All(before, file => Assert.Equal(file.Value, File.ReadAllText(file.Key)));
    }

    [Fact]
    public void Render_without_an_output_directory_says_so()
    {
        var result = Tool.Run(PrometheusRender, []);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("output directory", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Alertmanager_render_without_flags_writes_the_committed_configuration()
    {
        using var temp = new TempDirectory();

        var result = Tool.RunOk(AlertmanagerRender, [temp.Path]);

        Assert.Equal(temp.Combine("alertmanager.yml"), result.Stdout.Trim());
        Assert.Equal(Yaml.Canonical(Yaml.Load(Repository.AlertmanagerConfig)), Yaml.Canonical(Yaml.Load(temp.Combine("alertmanager.yml"))));
        Tool.RunOk("amtool", ["check-config", temp.Combine("alertmanager.yml")]);
    }

    [Fact]
    public void Alertmanager_render_applies_the_overrides()
    {
        using var temp = new TempDirectory();
        var output = temp.Combine("out");
        File.WriteAllText(temp.Combine("webhook token"), "s3cret\n");

        // A relative credentials file is resolved against the caller's directory, not the config's.
        Tool.RunOk(AlertmanagerRender,
        [
            output,
            "--webhook-url", "http://127.0.0.2:20180/api/v1/webhook",
            "--credentials-file", "webhook token",
            "--group-wait=1s",
            "--group-interval", "2s",
            "--repeat-interval", "30s",
        ], workingDirectory: temp.Path);

        var configFile = Path.Combine(output, "alertmanager.yml");
        var config = Yaml.Load(configFile);
        var route = config.Map("route").Seq("routes").Maps().Single(r => r.Str("receiver") == "rebalancer");
        Assert.Equal("1s", route.Str("group_wait"));
        Assert.Equal("2s", route.Str("group_interval"));
        Assert.Equal("30s", route.Str("repeat_interval"));
        var webhook = config.Seq("receivers").Maps().Single(r => r.Str("name") == "rebalancer").Seq("webhook_configs").Maps().Single();
        Assert.Equal("http://127.0.0.2:20180/api/v1/webhook", webhook.Str("url"));
        Assert.Equal("true", webhook.Str("send_resolved"));
        Assert.Equal(temp.Combine("webhook token"), webhook.Map("http_config").Map("authorization").Str("credentials_file"));
        // The top route keeps its timings.
        Assert.Equal("30s", config.Map("route").Str("group_wait"));

        Tool.RunOk("amtool", ["check-config", configFile]);
        var routed = AmtoolTests.RouteTest(configFile, "rebalancer", ["alertname=HypervisorCpuHigh", "action=rebalance", "host=hv1"]);
        Assert.Equal("rebalancer", routed.Stdout.Trim());
    }

    [Theory]
    [InlineData("--webhook-url", "127.0.0.1:10180/api/v1/webhook")]
    [InlineData("--webhook-url", "http://127.0.0.1:10180/a b")]
    [InlineData("--credentials-file", "")]
    [InlineData("--group-wait", "soon")]
    [InlineData("--repeat-interval", "0s")]
    [InlineData("--receiver", "x")]
    public void Alertmanager_render_refuses_a_bad_flag_naming_it_and_writes_nothing(string flag, string value)
    {
        using var temp = new TempDirectory();
        var output = temp.Combine("out");

        var result = Tool.Run(AlertmanagerRender, [output, flag, value]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(flag, result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output), result.ToString());
    }

    /// <summary>promtool's unit tests <paramref name="tests"/> (the items of its `tests:` list) on the hypervisor rules
    /// rendered into <paramref name="rendered"/>, evaluated every <paramref name="evaluationInterval"/>; fails the
    /// calling test with promtool's output unless they pass.</summary>
    private static void PromtoolTestOfRendered(TempDirectory rendered, string evaluationInterval, string tests)
    {
        File.WriteAllText(rendered.Combine("rendered.test.yml"), $"""
            rule_files: [rules/recording.yml, rules/hypervisor-alerts.yml]
            evaluation_interval: {evaluationInterval}
            group_eval_order: [loadshift.hypervisor.recording, loadshift.hypervisor.alerts]
            tests:

            """ + tests + "\n");
        Tool.RunOk("promtool", ["test", "rules", "rendered.test.yml"], rendered.Path);
    }

    /// <summary>The alerts <see cref="Prometheus_render_applies_the_overrides"/> renders with other values.</summary>
    private static bool Overridden(Rule rule) => rule.Alert is "HypervisorCpuHigh" or "HypervisorMemoryHigh";

    private static IEnumerable<string> StaticTargets(YamlDotNet.RepresentationModel.YamlMappingNode job) =>
        job.Seq("static_configs").Maps().Single().Seq("targets").Strings();
}
