using System.Text.Json;
using System.Text.RegularExpressions;

namespace Loadshift.Testing;

/// <summary>The parts of Prometheus' HTTP API the tests ask a running Prometheus: label values and instant queries,
/// and every dashboard query with its variables set from that Prometheus as Grafana would set them.</summary>
public static class PrometheusQueries
{
    public static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Every query of <paramref name="dashboards"/> with its variables set as Grafana would set them from this
    /// Prometheus (the first value of a single-valued variable, every value of a multi-valued one) and
    /// <c>$__rate_interval</c> set to <paramref name="rateInterval"/>; fails on a variable without values.</summary>
    public static async Task<List<Query>> DashboardQueriesAsync(string prometheusUrl, IEnumerable<Dashboard> dashboards,
        string rateInterval, Action<string>? log = null)
    {
        var queries = new List<Query>();
        foreach (var dashboard in dashboards)
        {
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var variable in dashboard.Variables)
            {
                var (selector, label) = PromQl.LabelValues(variable.Query);
                var found = await LabelValuesAsync(prometheusUrl, PromQl.Substitute(selector, values), label);
                Assert.True(found.Count > 0, $"{dashboard}: variable ${variable.Name} ({variable.Query}) has no values");
                values[variable.Name] = variable.Multi || variable.IncludeAll
                    ? "(" + string.Join('|', found.Select(Regex.Escape)) + ")"
                    : found[0];
                log?.Invoke($"{dashboard}: ${variable.Name} = {values[variable.Name]}");
            }

            queries.AddRange(dashboard.Queries.Select(q => q with { Expr = PromQl.Substitute(q.Expr, values, rateInterval) }));
        }

        return queries;
    }

    /// <summary>The values of <paramref name="label"/> on the series <paramref name="selector"/> selects (all series when
    /// empty), sorted.</summary>
    public static async Task<List<string>> LabelValuesAsync(string prometheusUrl, string selector, string label)
    {
        var url = $"{prometheusUrl}/api/v1/label/{label}/values" + (selector.Length > 0 ? $"?match[]={Uri.EscapeDataString(selector)}" : "");
        using var json = JsonDocument.Parse(await Http.GetStringAsync(url));
        return [.. json.RootElement.GetProperty("data").EnumerateArray().Select(v => v.GetString()!).Order(StringComparer.Ordinal)];
    }

    /// <summary>The value of an instant query's first series now; NaN when it returns none or Prometheus does not answer
    /// (yet).</summary>
    public static async Task<double> ValueAsync(string prometheusUrl, string expr)
    {
        try
        {
            using var json = JsonDocument.Parse(await Http.GetStringAsync($"{prometheusUrl}/api/v1/query?query={Uri.EscapeDataString(expr)}"));
            var result = json.RootElement.GetProperty("data").GetProperty("result");
            return result.GetArrayLength() == 0 ? double.NaN
                : double.Parse(result[0].GetProperty("value")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (HttpRequestException)
        {
            return double.NaN;
        }
    }

    /// <summary>How many series an instant query returns now; fails on a query Prometheus rejects.</summary>
    public static async Task<int> SeriesAsync(string prometheusUrl, string expr)
    {
        using var response = await Http.PostAsync($"{prometheusUrl}/api/v1/query",
            new FormUrlEncodedContent([new KeyValuePair<string, string>("query", expr)]));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{expr}\n{body}");
        using var json = JsonDocument.Parse(body);
        var data = json.RootElement.GetProperty("data");
        return data.GetProperty("resultType").GetString() switch
        {
            "vector" or "matrix" => data.GetProperty("result").GetArrayLength(),
            _ => 1,
        };
    }
}
