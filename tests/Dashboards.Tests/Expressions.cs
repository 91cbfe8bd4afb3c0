namespace Loadshift.Dashboards.Tests;

/// <summary>Every PromQL expression of the project: each dashboard's panels, annotations and variable selectors,
/// and each rule.</summary>
internal static class Expressions
{
    /// <summary>Values for parsing only: a single value for single-valued variables, Grafana's (a|b) for the others.</summary>
    public static IReadOnlyDictionary<string, string> PlaceholderValues(Dashboard dashboard) =>
        dashboard.Variables.ToDictionary(v => v.Name, v => v.Multi || v.IncludeAll ? "(hv1|hv2)" : "hv1", StringComparer.Ordinal);

    /// <summary>Dashboard queries (panels, annotations, variable selectors) with the placeholder values, and rules.</summary>
    public static IReadOnlyList<Query> AllSubstituted()
    {
        var queries = new List<Query>();
        foreach (var dashboard in Dashboard.Committed)
        {
            var values = PlaceholderValues(dashboard);
            queries.AddRange(dashboard.Queries.Select(q => q with { Expr = PromQl.Substitute(q.Expr, values) }));
            queries.AddRange(dashboard.Variables
                .Select(v => (v, PromQl.LabelValues(v.Query).Selector))
                .Where(x => x.Selector.Length > 0)
                .Select(x => new Query(dashboard.File, $"variable {x.v.Name}", PromQl.Substitute(x.Selector, values))));
        }

        queries.AddRange(Rule.Committed.Select(r => r.Query));
        return queries;
    }

    /// <summary>A rule file holding each expression as a recording rule, so that promtool parses them all.</summary>
    public static string AsRuleFile(IReadOnlyList<Query> queries)
    {
        var lines = new List<string> { "groups:", "  - name: expressions", "    rules:" };
        for (var i = 0; i < queries.Count; i++)
        {
            lines.Add($"      - record: check:expression:q{i}");
            lines.Add("        expr: |");
            lines.AddRange(queries[i].Expr.Split('\n').Select(l => "          " + l));
        }

        return string.Join('\n', lines) + "\n";
    }
}
