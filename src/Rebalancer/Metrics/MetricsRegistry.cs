using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Loadshift.Rebalancer.Metrics;

/// <summary>A small Prometheus client (prometheus-net is not available here): counters, gauges and histograms
/// with labels, written in the text exposition format 0.0.4.</summary>
public sealed class MetricsRegistry
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly List<Metric> metrics = [];

    public Counter Counter(string name, string help, params string[] labelNames) => Add(new Counter(name, help, labelNames));

    public Gauge Gauge(string name, string help, params string[] labelNames) => Add(new Gauge(name, help, labelNames));

    public Histogram Histogram(string name, string help, double[] buckets) => Add(new Histogram(name, help, buckets));

    private T Add<T>(T metric) where T : Metric
    {
        lock (metrics)
        {
            metrics.Add(metric);
        }
        return metric;
    }

    public string Expose()
    {
        var text = new StringBuilder();
        lock (metrics)
        {
            foreach (var metric in metrics)
            {
                metric.Write(text);
            }
        }
        return text.ToString();
    }

    internal static string FormatValue(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        double.NaN => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    /// <summary>Label values escape backslash, double quote and newline (exposition format 0.0.4).</summary>
    internal static string EscapeLabelValue(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    /// <summary>HELP text escapes backslash and newline.</summary>
    internal static string EscapeHelp(string help) =>
        help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}

public abstract class Metric(string name, string help, string type, string[] labelNames)
{
    public string Name { get; } = name;

    protected string[] LabelNames { get; } = labelNames;

    internal void Write(StringBuilder text)
    {
        text.Append("# HELP ").Append(Name).Append(' ').Append(MetricsRegistry.EscapeHelp(help)).Append('\n');
        text.Append("# TYPE ").Append(Name).Append(' ').Append(type).Append('\n');
        WriteSamples(text);
    }

    protected abstract void WriteSamples(StringBuilder text);

    protected static void Sample(StringBuilder text, string name, IReadOnlyList<string> labelNames, IReadOnlyList<string> labelValues, double value, (string Name, string Value)? extra = null)
    {
        text.Append(name);
        if (labelNames.Count > 0 || extra is not null)
        {
            text.Append('{');
            for (var i = 0; i < labelNames.Count; i++)
            {
                text.Append(i == 0 ? "" : ",").Append(labelNames[i]).Append("=\"").Append(MetricsRegistry.EscapeLabelValue(labelValues[i])).Append('"');
            }
            if (extra is { } e)
            {
                text.Append(labelNames.Count == 0 ? "" : ",").Append(e.Name).Append("=\"").Append(MetricsRegistry.EscapeLabelValue(e.Value)).Append('"');
            }
            text.Append('}');
        }
        text.Append(' ').Append(MetricsRegistry.FormatValue(value)).Append('\n');
    }
}

/// <summary>A value per label set, shared by counters and gauges.</summary>
public abstract class ValueMetric(string name, string help, string type, string[] labelNames) : Metric(name, help, type, labelNames)
{
    private readonly ConcurrentDictionary<string, Child> children = new(StringComparer.Ordinal);

    protected Child Get(string[] labelValues)
    {
        if (labelValues.Length != LabelNames.Length)
        {
            throw new ArgumentException($"{Name} takes {LabelNames.Length} label value(s), got {labelValues.Length}", nameof(labelValues));
        }
        return children.GetOrAdd(string.Join('\u0001', labelValues), _ => new Child(labelValues));
    }

    protected void RemoveAll() => children.Clear();

    protected override void WriteSamples(StringBuilder text)
    {
        foreach (var child in children.Values.OrderBy(c => string.Join('\u0001', c.LabelValues), StringComparer.Ordinal))
        {
            Sample(text, Name, LabelNames, child.LabelValues, child.Value);
        }
    }

    protected sealed class Child(string[] labelValues)
    {
        private readonly Lock gate = new();
        private double value;

        public string[] LabelValues { get; } = labelValues;

        public double Value
        {
            get { lock (gate) { return value; } }
            set { lock (gate) { this.value = value; } }
        }

        public void Add(double delta)
        {
            lock (gate)
            {
                value += delta;
            }
        }
    }
}

public sealed class Counter(string name, string help, string[] labelNames) : ValueMetric(name, help, "counter", labelNames)
{
    public void Inc(params string[] labelValues) => Get(labelValues).Add(1);

    /// <summary>Makes the series exist at 0, so rate() and increase() see its first increment.</summary>
    public void Touch(params string[] labelValues) => Get(labelValues);

    public double Value(params string[] labelValues) => Get(labelValues).Value;
}

public sealed class Gauge(string name, string help, string[] labelNames) : ValueMetric(name, help, "gauge", labelNames)
{
    private readonly Lock replaceGate = new();

    public void Set(double value, params string[] labelValues) => Get(labelValues).Value = value;

    public void Add(double delta, params string[] labelValues) => Get(labelValues).Add(delta);

    public double Value(params string[] labelValues) => Get(labelValues).Value;

    /// <summary>Replaces every series at once (e.g. one per host), dropping hosts that went away.</summary>
    public void Replace(IEnumerable<(string[] LabelValues, double Value)> series)
    {
        lock (replaceGate)
        {
            RemoveAll();
            foreach (var (labels, value) in series)
            {
                Set(value, labels);
            }
        }
    }
}

public sealed class Histogram : Metric
{
    private readonly double[] bounds;
    private readonly long[] counts;
    private readonly Lock gate = new();
    private double sum;
    private long count;

    public Histogram(string name, string help, double[] buckets) : base(name, help, "histogram", [])
    {
        bounds = [.. buckets.Order()];
        counts = new long[bounds.Length];
    }

    public void Observe(double value)
    {
        lock (gate)
        {
            for (var i = 0; i < bounds.Length; i++)
            {
                if (value <= bounds[i])
                {
                    counts[i]++;
                }
            }
            sum += value;
            count++;
        }
    }

    protected override void WriteSamples(StringBuilder text)
    {
        lock (gate)
        {
            for (var i = 0; i < bounds.Length; i++)
            {
                Sample(text, Name + "_bucket", [], [], counts[i], ("le", MetricsRegistry.FormatValue(bounds[i])));
            }
            Sample(text, Name + "_bucket", [], [], count, ("le", "+Inf"));
            Sample(text, Name + "_sum", [], [], sum);
            Sample(text, Name + "_count", [], [], count);
        }
    }
}
