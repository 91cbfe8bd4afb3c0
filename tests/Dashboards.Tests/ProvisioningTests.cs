using YamlDotNet.RepresentationModel;

namespace Loadshift.Dashboards.Tests;

/// <summary>grafana/provisioning: the datasource every panel names by uid, and the provider that loads the folder.</summary>
public sealed class ProvisioningTests
{
    public static string DatasourceUid => Scalar(Datasource(), "uid");

    [Fact]
    public void The_datasource_is_Prometheus_with_the_fixed_uid_and_the_scrape_interval()
    {
        var datasource = Datasource();

        Assert.Equal("loadshift-prometheus", Scalar(datasource, "uid"));
        Assert.Equal("prometheus", Scalar(datasource, "type"));
        Assert.Equal("proxy", Scalar(datasource, "access"));
        // $__rate_interval is at least 4 times the datasource's scrape interval: it must be prometheus.yml's.
        var global = (YamlMappingNode)Load(Path.Combine(Repository.Prometheus, "prometheus.yml"))["global"];
        Assert.Equal(Scalar(global, "scrape_interval"), Scalar((YamlMappingNode)datasource["jsonData"], "timeInterval"));
    }

    [Fact]
    public void The_dashboard_provider_loads_a_folder_of_files()
    {
        var files = Directory.GetFiles(Path.Combine(Repository.Grafana, "provisioning", "dashboards"), "*.yml");
        var provider = (YamlMappingNode)((YamlSequenceNode)Load(Assert.Single(files))["providers"]).Single();

        Assert.Equal("file", Scalar(provider, "type"));
        Assert.StartsWith("/", Scalar((YamlMappingNode)provider["options"], "path"), StringComparison.Ordinal);
        Assert.Equal("Loadshift", Scalar(provider, "folder"));
    }

    private static YamlMappingNode Datasource()
    {
        var files = Directory.GetFiles(Path.Combine(Repository.Grafana, "provisioning", "datasources"), "*.yml");
        return (YamlMappingNode)((YamlSequenceNode)Load(Assert.Single(files))["datasources"]).Single();
    }

    private static YamlMappingNode Load(string file)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(file);
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static string Scalar(YamlMappingNode node, string key) => ((YamlScalarNode)node[key]).Value ?? "";
}
