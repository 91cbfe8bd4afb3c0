using System.Text.Json;

namespace Loadshift.Lab.Demo;

internal static class DemoJson
{
    /// <summary>camelCase, as the Rebalancer's and lab/load's JSON.</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web);

    public static JsonSerializerOptions Indented { get; } = new(JsonSerializerDefaults.Web) { WriteIndented = true };
}
