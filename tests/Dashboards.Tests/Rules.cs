using YamlDotNet.RepresentationModel;

namespace Loadshift.Dashboards.Tests;

/// <summary>The expressions of the committed Prometheus rule files (recording rules and alerts).</summary>
internal static class Rules
{
    public sealed record Rule(string File, string Name, bool IsRecording, string Expr);

    public static IReadOnlyList<Rule> Committed => [.. Repository.RuleFiles.SelectMany(Load)];

    public static IReadOnlyList<Query> Queries =>
        [.. Committed.Select(r => new Query(r.File, $"{(r.IsRecording ? "record" : "alert")} {r.Name}", r.Expr))];

    private static IEnumerable<Rule> Load(string file)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(file))
        {
            stream.Load(reader);
        }

        var root = (YamlMappingNode)stream.Documents[0].RootNode;
        foreach (var group in ((YamlSequenceNode)root["groups"]).Cast<YamlMappingNode>())
        {
            foreach (var rule in ((YamlSequenceNode)group["rules"]).Cast<YamlMappingNode>())
            {
                var record = Scalar(rule, "record");
                yield return new Rule(file, record ?? Scalar(rule, "alert") ?? "", record is not null, Scalar(rule, "expr") ?? "");
            }
        }
    }

    private static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? ((YamlScalarNode)value).Value : null;
}
