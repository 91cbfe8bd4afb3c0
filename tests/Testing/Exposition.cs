using System.Globalization;
using System.Text.RegularExpressions;

namespace Loadshift.Testing;

/// <summary>Reading an exporter's /metrics text.</summary>
public static class Exposition
{
    /// <summary>The value of one series, written as in the exposition (name, then its labels if any); fails the
    /// calling test when the series is not there.</summary>
    public static double Sample(string metrics, string series)
    {
        var m = Regex.Match(metrics, $@"(?m)^{Regex.Escape(series)} (\S+)$");
        Assert.True(m.Success, $"no sample {series}");
        return double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }
}
