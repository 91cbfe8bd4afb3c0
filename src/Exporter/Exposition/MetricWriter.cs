using System.Globalization;
using System.Text;

namespace Loadshift.Exporter.Exposition;

internal enum MetricType
{
    Counter,
    Gauge,
}

/// <summary>
/// Writes the Prometheus text exposition format 0.0.4: HELP and TYPE once per family, then that family's samples,
/// label values escaped (backslash, double quote, newline), HELP escaped (backslash, newline), numbers in the
/// invariant culture with NaN, +Inf and -Inf spelled as the format wants.
/// </summary>
internal sealed class MetricWriter
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly StringBuilder _text;
    private readonly HashSet<string> _families = new(StringComparer.Ordinal);
    private string? _family;

    public MetricWriter(int capacity = 4096) => _text = new StringBuilder(capacity);

    public int Length => _text.Length;

    /// <summary>Starts a family. Writing the same family twice would split its samples, so it is refused.</summary>
    public void Family(string name, MetricType type, string help)
    {
        if (!_families.Add(name))
        {
            throw new InvalidOperationException($"metric family {name} written twice");
        }

        _family = name;
        _text.Append("# HELP ").Append(name).Append(' ');
        AppendEscaped(help, escapeQuote: false);
        _text.Append("\n# TYPE ").Append(name).Append(type == MetricType.Counter ? " counter\n" : " gauge\n");
    }

    public void Sample(double value)
    {
        _text.Append(CurrentFamily);
        EndSample(value);
    }

    public void Sample(string label, string labelValue, double value)
    {
        _text.Append(CurrentFamily).Append('{');
        AppendLabel(label, labelValue);
        _text.Append('}');
        EndSample(value);
    }

    public void Sample(string label1, string value1, string label2, string value2, double value)
    {
        _text.Append(CurrentFamily).Append('{');
        AppendLabel(label1, value1);
        _text.Append(',');
        AppendLabel(label2, value2);
        _text.Append('}');
        EndSample(value);
    }

    /// <summary>Appends what another writer wrote; the two must not share a family.</summary>
    public void Append(MetricWriter other)
    {
        foreach (var family in other._families)
        {
            if (!_families.Add(family))
            {
                throw new InvalidOperationException($"metric family {family} written twice");
            }
        }

        _text.Append(other._text);
    }

    public override string ToString() => _text.ToString();

    public byte[] ToUtf8() => Encoding.UTF8.GetBytes(_text.ToString());

    private string CurrentFamily => _family ?? throw new InvalidOperationException("Sample before Family");

    private void AppendLabel(string name, string value)
    {
        _text.Append(name).Append("=\"");
        AppendEscaped(value, escapeQuote: true);
        _text.Append('"');
    }

    private void AppendEscaped(string s, bool escapeQuote)
    {
        if (s.AsSpan().IndexOfAny('\\', '\n', '"') < 0)
        {
            _text.Append(s);
            return;
        }

        foreach (var c in s)
        {
            switch (c)
            {
                case '\\': _text.Append(@"\\"); break;
                case '\n': _text.Append(@"\n"); break;
                case '"' when escapeQuote: _text.Append("\\\""); break;
                default: _text.Append(c); break;
            }
        }
    }

    private void EndSample(double value)
    {
        _text.Append(' ');
        AppendValue(_text, value);
        _text.Append('\n');
    }

    internal static void AppendValue(StringBuilder text, double value)
    {
        if (double.IsNaN(value))
        {
            text.Append("NaN");
        }
        else if (double.IsPositiveInfinity(value))
        {
            text.Append("+Inf");
        }
        else if (double.IsNegativeInfinity(value))
        {
            text.Append("-Inf");
        }
        else if (value == Math.Floor(value) && Math.Abs(value) < 9.007199254740992e15)
        {
            // Whole numbers below 2^53 (counters in bytes, ticks, requests) print exactly, without an exponent.
            text.Append(((long)value).ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            text.Append(value.ToString("R", CultureInfo.InvariantCulture));
        }
    }
}
