using System.Globalization;
using System.Text.Json;
using Loadshift.Rebalancer.Inventory;
using Microsoft.Extensions.Options;

namespace Loadshift.Rebalancer.Cluster;

/// <summary>Instant queries against Prometheus' HTTP API (/api/v1/query), all at once.</summary>
internal sealed class PrometheusMetricsSource(HttpClient http, IOptions<PrometheusOptions> options) : IMetricsSource
{
    internal const string HostBusy = "host:hypervisor_cpu_busy:ratio_rate1m";
    internal const string DomainCpu = "host_domain:libvirt_domain_cpu:ratio_rate1m";
    internal const string DomainMemoryMaximum = "libvirt_domain_memory_maximum_bytes";
    internal const string DomainMemoryCurrent = "libvirt_domain_memory_current_bytes";
    internal const string HostMemoryAvailable = "hypervisor_memory_available_bytes";
    internal const string HostCpus = "hypervisor_cpus";
    internal const string HostMemoryUsed = "host:hypervisor_memory_used:ratio";
    internal const string HostMemoryTotal = "hypervisor_memory_total_bytes";

    public async Task<LoadMetrics> GetLoadAsync(TimeSpan calmWindow, CancellationToken cancellationToken)
    {
        var window = Math.Max(1, (long)calmWindow.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        var busy = QueryAsync(HostBusy, cancellationToken);
        // The highest busy ratio over the calm window: under the low watermark means "stayed calm that long".
        var calm = QueryAsync($"max_over_time({HostBusy}[{window}s])", cancellationToken);
        var memory = QueryAsync(HostMemoryAvailable, cancellationToken);
        var cpus = QueryAsync(HostCpus, cancellationToken);
        var domainCpu = QueryAsync(DomainCpu, cancellationToken);
        var domainMax = QueryAsync(DomainMemoryMaximum, cancellationToken);
        var domainCurrent = QueryAsync(DomainMemoryCurrent, cancellationToken);
        var memoryUsed = QueryAsync(HostMemoryUsed, cancellationToken);
        var memoryTotal = QueryAsync(HostMemoryTotal, cancellationToken);
        await Task.WhenAll(busy, calm, memory, cpus, domainCpu, domainMax, domainCurrent, memoryUsed, memoryTotal).ConfigureAwait(false);
        return new LoadMetrics(
            ByHost(busy.Result), ByHost(calm.Result), ByHost(memory.Result), ByHost(cpus.Result),
            ByDomain(domainCpu.Result), ByDomain(domainMax.Result), ByDomain(domainCurrent.Result), ByHost(memoryUsed.Result),
            ByHost(memoryTotal.Result));
    }

    private static Dictionary<string, double> ByHost(IReadOnlyList<Sample> samples)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var sample in samples)
        {
            if (sample.Labels.TryGetValue("host", out var host))
            {
                result[host] = sample.Value;
            }
        }
        return result;
    }

    private static Dictionary<(string, string), double> ByDomain(IReadOnlyList<Sample> samples)
    {
        var result = new Dictionary<(string, string), double>();
        foreach (var sample in samples)
        {
            if (sample.Labels.TryGetValue("host", out var host) && sample.Labels.TryGetValue("domain", out var domain))
            {
                result[(host, domain)] = sample.Value;
            }
        }
        return result;
    }

    private async Task<IReadOnlyList<Sample>> QueryAsync(string query, CancellationToken cancellationToken)
    {
        var url = new Uri(options.Value.Url, "api/v1/query?query=" + Uri.EscapeDataString(query));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.Timeout);
        try
        {
            using var response = await http.GetAsync(url, timeout.Token).ConfigureAwait(false);
            await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
            using var document = await JsonDocument.ParseAsync(stream, cancellationToken: timeout.Token).ConfigureAwait(false);
            return ParseVector(document.RootElement, query);
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new MetricsUnavailableException($"Prometheus at {options.Value.Url} did not answer '{query}': {e.Message}", e);
        }
    }

    /// <summary>Parses an instant-vector answer: {"status":"success","data":{"resultType":"vector",
    /// "result":[{"metric":{...},"value":[1700000000.1,"0.42"]}]}}.</summary>
    internal static IReadOnlyList<Sample> ParseVector(JsonElement root, string query)
    {
        try
        {
            return ParseVectorUnchecked(root, query);
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException)
        {
            throw new MetricsUnavailableException($"Prometheus' answer to '{query}' is not an instant vector: {e.Message}", e);
        }
    }

    private static List<Sample> ParseVectorUnchecked(JsonElement root, string query)
    {
        if (root.GetProperty("status").GetString() != "success")
        {
            var error = root.TryGetProperty("error", out var e) ? e.GetString() : "unknown error";
            throw new MetricsUnavailableException($"Prometheus rejected '{query}': {error}");
        }
        var samples = new List<Sample>();
        foreach (var item in root.GetProperty("data").GetProperty("result").EnumerateArray())
        {
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var label in item.GetProperty("metric").EnumerateObject())
            {
                labels[label.Name] = label.Value.GetString() ?? "";
            }
            var text = item.GetProperty("value")[1].GetString();
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value))
            {
                samples.Add(new Sample(labels, value));
            }
        }
        return samples;
    }

    internal sealed record Sample(IReadOnlyDictionary<string, string> Labels, double Value);
}
