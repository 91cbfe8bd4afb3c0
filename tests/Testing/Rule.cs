namespace Loadshift.Testing;

/// <summary>One rule of a Prometheus rule file: a recording rule (Record set) or an alert (Alert set).</summary>
public sealed record Rule(
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

    public bool IsRecording => Record is not null;

    /// <summary>Its expression as a query, named for failure messages ("record x" or "alert X").</summary>
    public Query Query => new(File, $"{(IsRecording ? "record" : "alert")} {Name}", Expr);

    /// <summary>prometheus/rules/*.yml of the checkout, in file name order.</summary>
    public static IReadOnlyList<string> Files =>
        [.. Directory.GetFiles(Path.Combine(RepositoryRoot.Path, "prometheus", "rules"), "*.yml").Order(StringComparer.Ordinal)];

    public static IReadOnlyList<Rule> Committed => LoadAll(Files);

    public static IReadOnlyList<Rule> CommittedAlerts => [.. Committed.Where(r => r.Alert is not null)];

    /// <summary>Every rule of one file, in file order; a file without groups or a group without rules fails, naming
    /// where.</summary>
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

    public override string ToString() => $"{System.IO.Path.GetFileName(File)}: {Name}";
}
