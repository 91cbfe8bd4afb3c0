using System.Text.Json.Nodes;

namespace Loadshift.Testing;

/// <summary>One PromQL expression of a dashboard or rule file, and where it is (for failure messages).</summary>
public sealed record Query(string File, string Where, string Expr)
{
    public override string ToString() => $"{System.IO.Path.GetFileName(File)}: {Where}";
}

/// <summary>A templating variable of type query (Prometheus' label_values).</summary>
public sealed record Variable(string Name, string Query, bool Multi, bool IncludeAll, JsonObject Node);

/// <summary>A Grafana dashboard file: its panels (rows flattened), variables and annotation queries.</summary>
public sealed class Dashboard
{
    private Dashboard(string file, JsonObject root)
    {
        File = file;
        Root = root;
        Panels = [.. Flatten(root["panels"]?.AsArray() ?? [])];
        Variables = [.. (root["templating"]?["list"]?.AsArray() ?? []).OfType<JsonObject>().Select(v => new Variable(
            (string?)v["name"] ?? "",
            (string?)v["query"]?["query"] ?? (string?)v["query"] ?? (string?)v["definition"] ?? "",
            (bool?)v["multi"] ?? false,
            (bool?)v["includeAll"] ?? false,
            v))];
        Annotations = [.. (root["annotations"]?["list"]?.AsArray() ?? []).OfType<JsonObject>()];
    }

    public string File { get; }

    public JsonObject Root { get; }

    public string Uid => (string?)Root["uid"] ?? "";

    public string Title => (string?)Root["title"] ?? "";

    /// <summary>Every panel that draws something (rows are containers and left out).</summary>
    public IReadOnlyList<JsonObject> Panels { get; }

    public IReadOnlyList<Variable> Variables { get; }

    public IReadOnlyList<JsonObject> Annotations { get; }

    /// <summary>The PromQL of every panel target and annotation, as written (variables not substituted).</summary>
    public IEnumerable<Query> Queries =>
        Panels.SelectMany(p => (p["targets"]?.AsArray() ?? []).OfType<JsonObject>()
                .Select(t => new Query(File, $"panel '{p["title"]}' target {t["refId"]}", (string?)t["expr"] ?? "")))
            .Concat(Annotations.Select(a => new Query(File, $"annotation '{a["name"]}'", (string?)a["expr"] ?? "")));

    public static Dashboard Load(string file) =>
        new(file, JsonNode.Parse(System.IO.File.ReadAllText(file))?.AsObject()
            ?? throw new InvalidOperationException($"{file} is not a JSON object"));

    /// <summary>grafana/dashboards/*.json of the checkout, in file name order.</summary>
    public static IReadOnlyList<string> Files =>
        [.. Directory.GetFiles(System.IO.Path.Combine(RepositoryRoot.Path, "grafana", "dashboards"), "*.json").Order(StringComparer.Ordinal)];

    public static IReadOnlyList<Dashboard> Committed => [.. Files.Select(Load)];

    public override string ToString() => System.IO.Path.GetFileName(File);

    private static IEnumerable<JsonObject> Flatten(JsonArray panels)
    {
        foreach (var panel in panels.OfType<JsonObject>())
        {
            if ((string?)panel["type"] == "row")
            {
                foreach (var inner in Flatten(panel["panels"]?.AsArray() ?? []))
                {
                    yield return inner;
                }
            }
            else
            {
                yield return panel;
            }
        }
    }
}
