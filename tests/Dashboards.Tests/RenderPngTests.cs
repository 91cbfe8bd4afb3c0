using System.Text.RegularExpressions;

namespace Loadshift.Dashboards.Tests;

/// <summary>grafana/render-png without a Prometheus: flags checked, and every panel it renders
/// exists in the dashboards (the Lab test renders real pictures).</summary>
public sealed partial class RenderPngTests
{
    [Fact]
    public void Every_panel_it_renders_exists_once_in_its_dashboard()
    {
        var renders = RenderLine().Matches(File.ReadAllText(Repository.RenderPng)).ToList();

        Assert.Equal(["domain-cpu", "host-busy", "icmp-delay", "memory", "probe-delay", "throughput"],
            renders.Select(m => m.Groups["name"].Value).Order(StringComparer.Ordinal));
        foreach (var render in renders)
        {
            var dashboard = Dashboard.Load(Path.Combine(Repository.Grafana, "dashboards", render.Groups["file"].Value));
            Assert.Single(dashboard.Panels, p => (string?)p["title"] == render.Groups["title"].Value);
        }
    }

    [Theory]
    [InlineData("--range", "2x")]
    [InlineData("--step", "0s")]
    [InlineData("--end", "yesterday")]
    [InlineData("--bogus", "1")]
    public void A_bad_flag_is_refused_naming_it(string flag, string value)
    {
        using var temp = new TempDirectory();

        var result = Tool.Run(Repository.RenderPng, ["http://127.0.0.1:1", temp.Combine("out"), flag, value]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(flag, result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(temp.Combine("out")), result.ToString());
    }

    [Fact]
    public void A_missing_argument_is_refused()
    {
        var result = Tool.Run(Repository.RenderPng, ["http://127.0.0.1:1"]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("usage", result.Stderr, StringComparison.Ordinal);
    }

    [GeneratedRegex("""^render (?<name>[a-z-]+) (?<file>[a-z-]+\.json) "(?<title>[^"]+)" """, RegexOptions.Multiline)]
    private static partial Regex RenderLine();
}
