using System.Text.RegularExpressions;

namespace Loadshift.Dashboards.Tests;

/// <summary>Every expression of every dashboard and rule, variables substituted, parses: promtool check rules is
/// the parser (each expression becomes a recording rule of a scratch file).</summary>
public sealed partial class ExpressionTests
{
    [Fact]
    public void Every_dashboard_and_rule_expression_parses()
    {
        using var temp = new TempDirectory();
        var queries = Expressions.AllSubstituted();
        Assert.True(queries.Count > 60, $"only {queries.Count} expressions found");
        File.WriteAllText(temp.Combine("expressions.yml"), Expressions.AsRuleFile(queries));

        var result = Tool.Run("promtool", ["check", "rules", temp.Combine("expressions.yml")]);

        var failures = RuleIndex().Matches(result.Stdout + result.Stderr)
            .Select(m => $"{queries[int.Parse(m.Groups["i"].Value, System.Globalization.CultureInfo.InvariantCulture)]}: " +
                         $"{queries[int.Parse(m.Groups["i"].Value, System.Globalization.CultureInfo.InvariantCulture)].Expr}")
            .ToList();
        Assert.True(result.ExitCode == 0, $"{string.Join('\n', failures)}\n{result}");
        Assert.Contains($"SUCCESS: {queries.Count} rules found", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void A_broken_expression_fails_the_parse()
    {
        // The guard for the test above: promtool must reject what Prometheus would.
        using var temp = new TempDirectory();
        File.WriteAllText(temp.Combine("broken.yml"), Expressions.AsRuleFile(
            [new Query("x", "broken", "sum by (host) (rate(hypervisor_cpu_seconds_total{host=\"hv1\"}[1m])")]));

        var result = Tool.Run("promtool", ["check", "rules", temp.Combine("broken.yml")]);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("check:expression:q0", result.Stdout + result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1 - sum by (cpu) (rate(hypervisor_cpu_seconds_total{host=\"$host\", mode=\"idle\"}[$__rate_interval]))", "hypervisor_cpu_seconds_total")]
    [InlineData("histogram_quantile(0.9, sum by (le) (rate(rebalancer_migration_duration_seconds_bucket[$__rate_interval])))", "rebalancer_migration_duration_seconds_bucket")]
    [InlineData("sum(rebalancer_webhook_requests_total{code!~\"2..\"}) or vector(0)", "rebalancer_webhook_requests_total")]
    [InlineData("a_total unless a_total offset 15m and on (domain, job) (b == 1)", "a_total a_total b")]
    public void Metric_names_are_found_in_an_expression(string expr, string expected)
    {
        Assert.Equal(expected.Split(' '), PromQl.MetricNames(expr));
    }

    [Fact]
    public void Variables_are_substituted_as_Grafana_does()
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal) { ["host"] = "hv1", ["domain"] = "(vm1|vm2)" };

        Assert.Equal(
            "rate(x{host=\"hv1\", domain=~\"(vm1|vm2)\"}[30s])",
            PromQl.Substitute("rate(x{host=\"$host\", domain=~\"${domain}\"}[$__rate_interval])", values, "30s"));
        Assert.Equal(["host", "domain"], PromQl.VariablesUsed("x{host=\"$host\", domain=~\"[[domain]]\"}[$__rate_interval]"));
    }

    [GeneratedRegex("""check:expression:q(?<i>[0-9]+)""")]
    private static partial Regex RuleIndex();
}
