using System.Text.Json.Nodes;

namespace Loadshift.Dashboards.Tests;

/// <summary>Grafana as files, as docs/style.md asks: fixed uids, datasource by uid, variables defined and used,
/// $__rate_interval in rates. Grafana itself is not served by the registries here, so its rules are checked on
/// the JSON.</summary>
public sealed class StructureTests
{
    public static TheoryData<string> DashboardFiles => [.. Repository.DashboardFiles.Select(Path.GetFileName).OfType<string>()];

    [Fact]
    public void The_five_dashboards_exist_with_fixed_unique_uids_and_titles()
    {
        var dashboards = Dashboard.Committed;

        Assert.Equal(
            ["loadshift-cluster", "loadshift-domains", "loadshift-host", "loadshift-rebalancer", "loadshift-service-quality"],
            dashboards.Select(d => d.Uid).Order(StringComparer.Ordinal));
        Assert.Equal(dashboards.Count, dashboards.Select(d => d.Title).Distinct(StringComparer.Ordinal).Count());
        Assert.All(dashboards, d =>
        {
            // Grafana's limit on uids is 40 characters.
            Assert.InRange(d.Uid.Length, 1, 40);
            Assert.StartsWith("Loadshift / ", d.Title, StringComparison.Ordinal);
            Assert.Null(d.Root["id"]);
        });
    }

    [Theory]
    [MemberData(nameof(DashboardFiles))]
    public void Every_panel_target_annotation_and_variable_names_the_datasource_by_uid(string file)
    {
        var dashboard = Load(file);
        var uid = ProvisioningTests.DatasourceUid;

        Assert.NotEmpty(dashboard.Panels);
        foreach (var panel in dashboard.Panels)
        {
            AssertDatasource(panel, $"{file}: panel '{panel["title"]}'", uid);
            var targets = panel["targets"]?.AsArray() ?? [];
            Assert.True(targets.Count > 0, $"{file}: panel '{panel["title"]}' has no query");
            foreach (var target in targets.OfType<JsonObject>())
            {
                AssertDatasource(target, $"{file}: panel '{panel["title"]}' target {target["refId"]}", uid);
                Assert.False(string.IsNullOrWhiteSpace((string?)target["expr"]), $"{file}: panel '{panel["title"]}' has an empty query");
            }
        }

        foreach (var annotation in dashboard.Annotations)
        {
            AssertDatasource(annotation, $"{file}: annotation '{annotation["name"]}'", uid);
        }

        foreach (var variable in dashboard.Variables)
        {
            AssertDatasource(variable.Node, $"{file}: variable '{variable.Name}'", uid);
        }
    }

    [Theory]
    [MemberData(nameof(DashboardFiles))]
    public void Panel_ids_and_target_refIds_are_unique_and_panels_fit_the_grid(string file)
    {
        var dashboard = Load(file);
        var ids = dashboard.Panels.Select(p => (int?)p["id"]).ToList();

        Assert.DoesNotContain(null, ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());
        foreach (var panel in dashboard.Panels)
        {
            var refIds = (panel["targets"]?.AsArray() ?? []).Select(t => (string?)t?["refId"]).ToList();
            Assert.Equal(refIds.Count, refIds.Distinct(StringComparer.Ordinal).Count());
            var x = (int)panel["gridPos"]!["x"]!;
            var w = (int)panel["gridPos"]!["w"]!;
            Assert.True(x >= 0 && w > 0 && x + w <= 24, $"{file}: panel '{panel["title"]}' is outside the 24-column grid");
        }
    }

    [Theory]
    [MemberData(nameof(DashboardFiles))]
    public void Every_variable_is_defined_and_used_and_every_used_variable_is_defined(string file)
    {
        var dashboard = Load(file);
        var defined = dashboard.Variables.Select(v => v.Name).ToList();
        var usedByPanels = dashboard.Queries.SelectMany(q => PromQl.VariablesUsed(q.Expr)).ToHashSet(StringComparer.Ordinal);
        var usedByVariables = dashboard.Variables.SelectMany(v => PromQl.VariablesUsed(v.Query));

        Assert.Equal(defined.Count, defined.Distinct(StringComparer.Ordinal).Count());
        foreach (var name in defined)
        {
            Assert.True(usedByPanels.Contains(name), $"{file}: variable ${name} is defined but no panel uses it");
        }

        foreach (var name in usedByPanels.Concat(usedByVariables))
        {
            Assert.True(defined.Contains(name), $"{file}: ${name} is used but not defined in templating");
        }

        // A variable's query may use only the variables defined before it (Grafana resolves them in order).
        for (var i = 0; i < dashboard.Variables.Count; i++)
        {
            foreach (var name in PromQl.VariablesUsed(dashboard.Variables[i].Query))
            {
                Assert.Contains(name, defined.Take(i));
            }

            PromQl.LabelValues(dashboard.Variables[i].Query);
        }
    }

    [Theory]
    [MemberData(nameof(DashboardFiles))]
    public void Rates_use_rate_interval(string file)
    {
        foreach (var query in Load(file).Queries)
        {
            foreach (var (function, range) in PromQl.RateRanges(query.Expr))
            {
                Assert.True(range == "$__rate_interval", $"{query}: {function}() over [{range}], not [$__rate_interval]");
            }
        }
    }

    [Fact]
    public void Multi_value_variables_are_matched_with_a_regex()
    {
        // Grafana joins several values as (a|b): only =~ matches them.
        foreach (var dashboard in Dashboard.Committed)
        {
            foreach (var variable in dashboard.Variables.Where(v => v.Multi || v.IncludeAll))
            {
                foreach (var query in dashboard.Queries.Concat(dashboard.Variables.Select(v => new Query(dashboard.File, $"variable {v.Name}", v.Query))))
                {
                    Assert.DoesNotContain($"=\"${variable.Name}\"", query.Expr.Replace("=~", "~", StringComparison.Ordinal), StringComparison.Ordinal);
                }
            }
        }
    }

    [Fact]
    public void The_host_dashboard_is_templated_by_host_and_shows_the_80_percent_line()
    {
        var host = Dashboard.Committed.Single(d => d.Uid == "loadshift-host");
        var variable = Assert.Single(host.Variables);

        Assert.Equal("host", variable.Name);
        Assert.False(variable.Multi);
        var busy = host.Panels.Single(p => (string?)p["title"] == "Busy ratio");
        Assert.Equal([null, 0.8], Steps(busy));
        var cluster = Dashboard.Committed.Single(d => d.Uid == "loadshift-cluster").Panels.Single(p => (string?)p["title"] == "Host busy ratio");
        Assert.Equal([null, 0.8], Steps(cluster));
        Assert.Equal("line", (string?)cluster["fieldConfig"]!["defaults"]!["custom"]!["thresholdsStyle"]!["mode"]);
    }

    [Theory]
    [InlineData("HTTP delay", 0.15, 0.3, 0.45)]
    [InlineData("ICMP delay", 0.15, 0.3, 0.45)]
    [InlineData("Jitter", 0.000001, 0.075, 0.125)]
    [InlineData("Packet loss", 0.000001, 0.03, 0.15)]
    public void Service_quality_panels_carry_the_TIPHON_bands(string title, double good, double medium, double poor)
    {
        // TIPHON (ETSI TR 101 329), as the Proxmox study judges its Wireshark figures: very good, good, medium,
        // poor. "Very good" jitter and loss are exactly 0, so anything above a millionth is at most "good".
        var panel = Dashboard.Committed.Single(d => d.Uid == "loadshift-service-quality").Panels.Single(p => (string?)p["title"] == title);

        Assert.Equal([null, good, medium, poor], Steps(panel));
        Assert.Equal(["green", "yellow", "orange", "red"],
            panel["fieldConfig"]!["defaults"]!["thresholds"]!["steps"]!.AsArray().Select(s => (string?)s!["color"]));
    }

    private static List<double?> Steps(JsonObject panel) =>
        [.. panel["fieldConfig"]!["defaults"]!["thresholds"]!["steps"]!.AsArray().Select(s => (double?)s!["value"])];

    private static Dashboard Load(string file) => Dashboard.Load(Path.Combine(Repository.Grafana, "dashboards", file));

    private static void AssertDatasource(JsonObject node, string where, string uid)
    {
        var datasource = node["datasource"] as JsonObject;
        Assert.True(datasource is not null, $"{where}: no datasource object (a name or the default is not allowed)");
        Assert.Equal("prometheus", (string?)datasource!["type"]);
        Assert.True((string?)datasource["uid"] == uid, $"{where}: datasource uid '{datasource["uid"]}', not '{uid}'");
    }
}
