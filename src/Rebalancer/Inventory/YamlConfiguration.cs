using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Loadshift.Rebalancer.Inventory;

/// <summary>Reads the inventory YAML into configuration keys (<c>policy:highWatermark</c>,
/// <c>hosts:0:name</c>), so it binds to options like any other source and environment variables
/// (<c>LOADSHIFT_policy__returnHomeAfter=30s</c>) or <c>--policy:returnHomeAfter=30s</c> override it.</summary>
internal sealed class YamlConfigurationSource(string path) : IConfigurationSource
{
    public IConfigurationProvider Build(IConfigurationBuilder builder) => new YamlConfigurationProvider(path);
}

internal sealed class YamlConfigurationProvider(string path) : ConfigurationProvider
{
    public override void Load()
    {
        if (!File.Exists(path))
        {
            throw new InvalidDataException($"--config: inventory file '{path}' does not exist");
        }
        using var reader = File.OpenText(path);
        Data = Parse(reader, path);
    }

    internal static Dictionary<string, string?> Parse(TextReader reader, string source)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(reader);
        }
        catch (YamlException e)
        {
            throw new InvalidDataException($"{source}:{e.Start.Line}:{e.Start.Column}: {e.Message}", e);
        }
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (stream.Documents.Count > 0)
        {
            Visit(stream.Documents[0].RootNode, null, data);
        }
        return data;
    }

    private static void Visit(YamlNode node, string? prefix, Dictionary<string, string?> data)
    {
        switch (node)
        {
            case YamlMappingNode mapping:
                foreach (var (key, value) in mapping.Children)
                {
                    var name = ((YamlScalarNode)key).Value ?? "";
                    Visit(value, prefix is null ? name : ConfigurationPath.Combine(prefix, name), data);
                }
                break;
            case YamlSequenceNode sequence:
                for (var i = 0; i < sequence.Children.Count; i++)
                {
                    Visit(sequence.Children[i], ConfigurationPath.Combine(prefix ?? "", i.ToString(System.Globalization.CultureInfo.InvariantCulture)), data);
                }
                break;
            case YamlScalarNode scalar when prefix is not null:
                var isNull = scalar.Style == ScalarStyle.Plain && scalar.Value is null or "~" or "null";
                data[prefix] = isNull ? null : scalar.Value;
                break;
        }
    }
}
