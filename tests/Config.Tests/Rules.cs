namespace Loadshift.Config.Tests;

/// <summary>One rule of a Prometheus rule file: a recording rule (Record set) or an alert (Alert set).</summary>
internal sealed record Rule(
    string File,
    string Group,
    string? Record,
    string? Alert,
    string Expr,
    string? For,
    string? KeepFiringFor,
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyDictionary<string, string> Annotations)
{
    public string Name => Record ?? Alert ?? "";

    public override string ToString() => $"{System.IO.Path.GetFileName(File)}: {Name}";

    public static IReadOnlyList<Rule> Load(string file) =>
        [.. from @group in Yaml.Load(file).Seq("groups").Maps()
            from rule in @group.Seq("rules").Maps()
            select new Rule(
                file,
                @group.Str("name") ?? "",
                rule.Str("record"),
                rule.Str("alert"),
                rule.Str("expr") ?? "",
                rule.Str("for"),
                rule.Str("keep_firing_for"),
                rule.StringMap("labels"),
                rule.StringMap("annotations"))];

    public static IReadOnlyList<Rule> LoadAll(IEnumerable<string> files) => [.. files.SelectMany(Load)];

    public static IReadOnlyList<Rule> Committed => LoadAll(Repository.RuleFiles);

    public static IReadOnlyList<Rule> CommittedAlerts => [.. Committed.Where(r => r.Alert is not null)];
}
