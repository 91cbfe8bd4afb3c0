using System.Globalization;
using System.Text.RegularExpressions;
using Loadshift.Rebalancer.Inventory;
using YamlDotNet.RepresentationModel;

namespace Loadshift.Simulator.Inputs;

/// <summary>HypervisorCpuHigh as the project's rule files define it, so the simulated alert is the real one:
/// <c>host:hypervisor_cpu_busy:ratio_rate1m &gt; HighWatermark</c> held <c>for</c>, kept firing
/// <c>keep_firing_for</c>; the busy ratio is a rate over <see cref="RateWindow"/> (recording.yml), evaluated every
/// <see cref="EvaluationInterval"/> (prometheus.yml's global evaluation_interval).</summary>
public sealed partial record AlertRule(
    string Name,
    double HighWatermark,
    TimeSpan For,
    TimeSpan KeepFiringFor,
    TimeSpan RateWindow,
    TimeSpan EvaluationInterval)
{
    public const string BusyRecord = "host:hypervisor_cpu_busy:ratio_rate1m";

    /// <summary>Reads <paramref name="prometheusDirectory"/>/prometheus.yml and rules/*.yml.</summary>
    public static AlertRule Load(string prometheusDirectory, string alertName)
    {
        var rulesDirectory = Path.Combine(prometheusDirectory, "rules");
        if (!Directory.Exists(rulesDirectory))
        {
            throw new InputException($"--prometheus-config: '{rulesDirectory}' does not exist (the project's prometheus/ folder)");
        }
        YamlMappingNode? alert = null;
        string? busyExpr = null;
        string alertSource = "";
        foreach (var file in Directory.EnumerateFiles(rulesDirectory, "*.yml").Order(StringComparer.Ordinal))
        {
            foreach (var rule in Rules(file))
            {
                if (Scalar(rule, "alert") == alertName)
                {
                    alert = rule;
                    alertSource = file;
                }
                if (Scalar(rule, "record") == BusyRecord)
                {
                    busyExpr = Scalar(rule, "expr");
                }
            }
        }
        if (alert is null)
        {
            throw new InputException($"{rulesDirectory}: no alert named {alertName}");
        }
        if (busyExpr is null)
        {
            throw new InputException($"{rulesDirectory}: no recording rule {BusyRecord}");
        }
        var expr = Scalar(alert, "expr") ?? "";
        var threshold = ThresholdPattern().Match(expr);
        if (!threshold.Success)
        {
            throw new InputException($"{alertSource}: {alertName}'s expr '{expr.Trim()}' is not '{BusyRecord} > <ratio>'");
        }
        var window = WindowPattern().Match(busyExpr);
        if (!window.Success)
        {
            throw new InputException($"{rulesDirectory}: {BusyRecord}'s expr has no rate window");
        }
        var evaluation = TimeSpan.FromMinutes(1); // Prometheus' default evaluation_interval
        var config = Path.Combine(prometheusDirectory, "prometheus.yml");
        if (File.Exists(config) && Load(config).RootNode is YamlMappingNode root
            && root.Children.TryGetValue("global", out var global) && global is YamlMappingNode g
            && Scalar(g, "evaluation_interval") is { } interval)
        {
            evaluation = Duration(interval, config, "global.evaluation_interval");
        }
        return new AlertRule(
            alertName,
            double.Parse(threshold.Groups["value"].Value, NumberStyles.Float, CultureInfo.InvariantCulture),
            Scalar(alert, "for") is { } f ? Duration(f, alertSource, "for") : TimeSpan.Zero,
            Scalar(alert, "keep_firing_for") is { } k ? Duration(k, alertSource, "keep_firing_for") : TimeSpan.Zero,
            Duration(window.Groups["window"].Value, rulesDirectory, BusyRecord),
            evaluation);
    }

    private static IEnumerable<YamlMappingNode> Rules(string file)
    {
        if (Load(file).RootNode is not YamlMappingNode root || !root.Children.TryGetValue("groups", out var groups)
            || groups is not YamlSequenceNode groupList)
        {
            yield break;
        }
        foreach (var group in groupList.OfType<YamlMappingNode>())
        {
            if (group.Children.TryGetValue("rules", out var rules) && rules is YamlSequenceNode ruleList)
            {
                foreach (var rule in ruleList.OfType<YamlMappingNode>())
                {
                    yield return rule;
                }
            }
        }
    }

    private static YamlDocument Load(string file)
    {
        var stream = new YamlStream();
        using var reader = File.OpenText(file);
        try
        {
            stream.Load(reader);
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new InputException($"{file}:{e.Start.Line}:{e.Start.Column}: {e.Message}", e);
        }
        return stream.Documents.Count > 0 ? stream.Documents[0] : new YamlDocument(new YamlMappingNode());
    }

    private static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(key, out var value) && value is YamlScalarNode scalar ? scalar.Value : null;

    private static TimeSpan Duration(string text, string source, string key) =>
        DurationConverter.TryParse(text, out var duration)
            ? duration
            : throw new InputException($"{source}: {key} '{text}' is not a Prometheus duration");

    [GeneratedRegex($@"^\s*{BusyRecord}\s*>\s*(?<value>[0-9.]+(e[-+]?[0-9]+)?)\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex ThresholdPattern();

    [GeneratedRegex(@"\[(?<window>[0-9]+(ms|s|m|h|d|w))\]", RegexOptions.CultureInvariant)]
    private static partial Regex WindowPattern();
}
