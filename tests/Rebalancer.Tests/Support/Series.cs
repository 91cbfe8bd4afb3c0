using System.Globalization;
using System.Text;
using Loadshift.Rebalancer.Metrics;

namespace Loadshift.Rebalancer.Tests.Support;

/// <summary>The series of a /metrics exposition as the Rebalancer writes them: name and labels as written, to value.</summary>
internal static class Series
{
    public static Dictionary<string, double> Parse(string exposition) =>
        exposition.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#'))
            .Select(l => (Series: l[..l.LastIndexOf(' ')], Value: double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture)))
            .ToDictionary(s => s.Series, s => s.Value, StringComparer.Ordinal);

    /// <summary>What /metrics would serve now, collected from the registry (before-collect callbacks included).</summary>
    public static async Task<string> ExposeAsync(RebalancerMetrics metrics)
    {
        using var text = new MemoryStream();
        await metrics.Registry.CollectAndExportAsTextAsync(text);
        return Encoding.UTF8.GetString(text.ToArray());
    }

    /// <summary>The value of one series (e.g. <c>rebalancer_migrations_total{result="succeeded"}</c>) on /metrics now.</summary>
    public static async Task<double> ValueAsync(RebalancerMetrics metrics, string series)
    {
        var all = Parse(await ExposeAsync(metrics));
        Assert.True(all.TryGetValue(series, out var value), $"{series} is not exposed");
        return value;
    }
}
