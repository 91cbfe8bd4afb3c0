using System.Text;
using YamlDotNet.RepresentationModel;

namespace Loadshift.Testing;

/// <summary>Reading the YAML files as node trees (no schema classes: the tests look at a few keys).</summary>
public static class Yaml
{
    public static YamlMappingNode Load(string path)
    {
        using var reader = new StreamReader(path);
        var stream = new YamlStream();
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    public static YamlSequenceNode LoadSequence(string path)
    {
        using var reader = new StreamReader(path);
        var stream = new YamlStream();
        stream.Load(reader);
        return (YamlSequenceNode)stream.Documents[0].RootNode;
    }

    public static YamlNode? Get(this YamlNode node, string key) =>
        node is YamlMappingNode mapping && mapping.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    public static YamlMappingNode Map(this YamlNode node, string key) =>
        node.Get(key) as YamlMappingNode ?? throw new KeyNotFoundException($"no mapping '{key}' at {node.Start}");

    public static YamlSequenceNode Seq(this YamlNode node, string key) =>
        node.Get(key) as YamlSequenceNode ?? throw new KeyNotFoundException($"no sequence '{key}' at {node.Start}");

    public static string? Str(this YamlNode node, string key) => (node.Get(key) as YamlScalarNode)?.Value;

    public static IEnumerable<YamlMappingNode> Maps(this YamlSequenceNode sequence) => sequence.Children.Cast<YamlMappingNode>();

    public static IEnumerable<string> Strings(this YamlSequenceNode sequence) =>
        sequence.Children.Cast<YamlScalarNode>().Select(s => s.Value ?? "");

    public static IReadOnlyDictionary<string, string> StringMap(this YamlNode node, string key) =>
        node.Get(key) is YamlMappingNode mapping
            ? mapping.Children.ToDictionary(p => ((YamlScalarNode)p.Key).Value ?? "", p => ((YamlScalarNode)p.Value).Value ?? "", StringComparer.Ordinal)
            : new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The tree's content without its styles and comments: equal for files that mean the same.</summary>
    public static string Canonical(YamlNode node)
    {
        var text = new StringBuilder();
        Write(node, text);
        return text.ToString();

        static void Write(YamlNode node, StringBuilder text)
        {
            switch (node)
            {
                case YamlScalarNode scalar:
                    text.Append('"').Append(scalar.Value).Append('"');
                    break;
                case YamlSequenceNode sequence:
                    text.Append('[');
                    foreach (var child in sequence.Children)
                    {
                        Write(child, text);
                        text.Append(',');
                    }

                    text.Append(']');
                    break;
                case YamlMappingNode mapping:
                    text.Append('{');
                    foreach (var (key, value) in mapping.Children)
                    {
                        Write(key, text);
                        text.Append(':');
                        Write(value, text);
                        text.Append(',');
                    }

                    text.Append('}');
                    break;
                default:
                    throw new NotSupportedException(node.GetType().Name);
            }
        }
    }
}
