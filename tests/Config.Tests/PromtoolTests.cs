namespace Loadshift.Config.Tests;

/// <summary>The committed Prometheus configuration and rules, judged by the real promtool.</summary>
public sealed class PromtoolTests
{
    public static TheoryData<string> RuleTestFiles => [.. Repository.RuleTestFiles.Select(Path.GetFileName).OfType<string>()];

    [Fact]
    public void Prometheus_yml_passes_promtool_check_config()
    {
        var result = Tool.RunOk("promtool", ["check", "config", Repository.PrometheusConfig]);

        // check config also loads every rule file that rule_files names.
        Assert.Contains($"SUCCESS: {Rule.Files.Count} rule files found", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Rule_files_pass_promtool_check_rules()
    {
        Assert.NotEmpty(Rule.Files);

        Tool.RunOk("promtool", ["check", "rules", .. Rule.Files]);
    }

    [Theory]
    [MemberData(nameof(RuleTestFiles))]
    public void Rule_unit_tests_pass(string testFile)
    {
        // Relative to prometheus/, as the files' own header says they are run.
        var result = Tool.RunOk("promtool", ["test", "rules", Path.Combine("tests", testFile)], Repository.Prometheus);

        Assert.Contains("SUCCESS", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Promtool_test_rules_fails_on_a_wrong_expectation()
    {
        // The guard for the tests above: a unit test file whose expectation is wrong must fail.
        using var temp = new TempDirectory();
        var rules = Path.Combine(Repository.Prometheus, "rules", "recording.yml");
        var testFile = temp.Combine("wrong.test.yml");
        File.WriteAllText(testFile, $$"""
            rule_files: ['{{rules}}']
            evaluation_interval: 15s
            tests:
              - interval: 15s
                input_series:
                  - series: 'hypervisor_cpu_seconds_total{host="hv1",cpu="0",mode="idle"}'
                    values: '0+7.5x20'
                  - series: 'hypervisor_cpu_seconds_total{host="hv1",cpu="0",mode="user"}'
                    values: '0+7.5x20'
                promql_expr_test:
                  - expr: host:hypervisor_cpu_busy:ratio_rate1m
                    eval_time: 5m
                    exp_samples:
                      - labels: 'host:hypervisor_cpu_busy:ratio_rate1m{host="hv1"}'
                        value: 0.9
            """);

        var result = Tool.Run("promtool", ["test", "rules", testFile]);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("host=\"hv1\"} 5E-01", result.Stdout + result.Stderr, StringComparison.Ordinal);
    }
}
