using System.Text;
using Prometheus;

namespace Loadshift.Exporter.Tests;

internal static class Fixtures
{
    public static string Path(params string[] parts) =>
        System.IO.Path.Combine([AppContext.BaseDirectory, "Fixtures", .. parts]);

    public static string Read(params string[] parts) => File.ReadAllText(Path(parts));
}

/// <summary>A registry of its own for one test, and its text exposition as prometheus-net writes it.</summary>
internal sealed class TestRegistry
{
    public CollectorRegistry Registry { get; } = Prometheus.Metrics.NewCustomRegistry();

    public IMetricFactory Metrics => Prometheus.Metrics.WithCustomRegistry(Registry);

    public async Task<string> ExposeAsync()
    {
        using var stream = new MemoryStream();
        await Registry.CollectAndExportAsTextAsync(stream);
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
