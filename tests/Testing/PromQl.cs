using System.Text.RegularExpressions;

namespace Loadshift.Testing;

/// <summary>What the tests need to know of a PromQL expression without a parser of their own: the metric names it
/// reads, the dashboard variables it uses, the ranges of its rate functions, and the expression with variables
/// substituted. Parsing itself is promtool's job (ExpressionTests).</summary>
public static partial class PromQl
{
    /// <summary>Grafana's built-in variables that the Prometheus datasource fills in.</summary>
    public static readonly IReadOnlyDictionary<string, string> BuiltIns = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["__rate_interval"] = "1m",
        ["__interval"] = "15s",
        ["__range"] = "1h",
    };

    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "and", "or", "unless", "offset", "bool", "by", "without", "on", "ignoring", "group_left", "group_right",
        "inf", "nan",
    };

    /// <summary>The metric names an expression reads: selectors stripped of matchers, ranges and grouping.</summary>
    public static List<string> MetricNames(string expr)
    {
        var stripped = Matchers().Replace(expr, " ");
        stripped = Ranges().Replace(stripped, " ");
        stripped = Grouping().Replace(stripped, " ");
        stripped = Variables().Replace(stripped, " ");
        return [.. Identifiers().Matches(stripped)
            .Where(m => !m.Groups["call"].Success)
            .Select(m => m.Groups["name"].Value)
            .Where(n => !Keywords.Contains(n.ToLowerInvariant()))];
    }

    /// <summary>The dashboard variables an expression uses ($name, ${name}, ${name:format}, [[name]]), built-ins
    /// left out.</summary>
    public static IEnumerable<string> VariablesUsed(string expr) =>
        Variables().Matches(expr)
            .Select(m => m.Groups["a"].Success ? m.Groups["a"].Value : m.Groups["b"].Success ? m.Groups["b"].Value : m.Groups["c"].Value)
            .Where(n => !n.StartsWith("__", StringComparison.Ordinal))
            .Distinct(StringComparer.Ordinal);

    /// <summary>The range of every rate(), irate() and increase() in the expression, as written.</summary>
    public static IEnumerable<(string Function, string Range)> RateRanges(string expr) =>
        RateCalls().Matches(expr).Select(m => (m.Groups["f"].Value, m.Groups["range"].Value));

    /// <summary>The expression as Grafana sends it: variables replaced by their values, built-ins by theirs.</summary>
    public static string Substitute(string expr, IReadOnlyDictionary<string, string> values, string? rateInterval = null) =>
        Variables().Replace(expr, m =>
        {
            var name = m.Groups["a"].Success ? m.Groups["a"].Value : m.Groups["b"].Success ? m.Groups["b"].Value : m.Groups["c"].Value;
            if (name == "__rate_interval" && rateInterval is not null)
            {
                return rateInterval;
            }

            if (BuiltIns.TryGetValue(name, out var builtIn))
            {
                return builtIn;
            }

            return values.TryGetValue(name, out var value)
                ? value
                : throw new InvalidOperationException($"no value for ${name} in: {expr}");
        });

    /// <summary>A template query label_values(selector, label) or label_values(label): the selector may be empty.</summary>
    public static (string Selector, string Label) LabelValues(string query)
    {
        var m = LabelValuesQuery().Match(query.Trim());
        if (!m.Success)
        {
            throw new InvalidOperationException($"not a label_values() query: {query}");
        }

        return (m.Groups["selector"].Value.Trim(), m.Groups["label"].Value);
    }

    [GeneratedRegex("""\{[^}]*\}""")]
    private static partial Regex Matchers();

    [GeneratedRegex("""\[[^\]]*\]""")]
    private static partial Regex Ranges();

    [GeneratedRegex("""\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)""")]
    private static partial Regex Grouping();

    [GeneratedRegex("""(?<![\w:.$])(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?<call>\s*\()?""")]
    private static partial Regex Identifiers();

    [GeneratedRegex("""\$\{(?<b>\w+)(?::\w+)?\}|\[\[(?<c>\w+)\]\]|\$(?<a>\w+)""")]
    private static partial Regex Variables();

    [GeneratedRegex("""\b(?<f>rate|irate|increase)\s*\((?<inner>[^\[\]]*?)\[(?<range>[^\]]*)\]""")]
    private static partial Regex RateCalls();

    [GeneratedRegex("""^label_values\(\s*(?:(?<selector>.+),\s*)?(?<label>[a-zA-Z_][a-zA-Z0-9_]*)\s*\)$""")]
    private static partial Regex LabelValuesQuery();
}
