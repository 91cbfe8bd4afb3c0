using System.Buffers;
using System.Globalization;
using System.Text;

namespace Loadshift.Exporter.Exposition;

internal enum MetricType
{
    Counter,
    Gauge,
}

/// <summary>
/// Writes the Prometheus text exposition format 0.0.4 straight into UTF-8: HELP and TYPE once per family, then
/// that family's samples, label values escaped (backslash, double quote, newline), HELP escaped (backslash,
/// newline), numbers in the invariant culture with NaN, +Inf and -Inf spelled as the format wants.
/// </summary>
internal sealed class MetricWriter
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly ArrayBufferWriter<byte> _buffer;
    private readonly HashSet<string> _families = new(StringComparer.Ordinal);
    private byte[] _family = [];

    public MetricWriter(int capacity = 4096) => _buffer = new ArrayBufferWriter<byte>(capacity);

    public int Length => _buffer.WrittenCount;

    /// <summary>Starts a family. Writing the same family twice would split its samples, so it is refused.</summary>
    public void Family(string name, MetricType type, string help)
    {
        if (!_families.Add(name))
        {
            throw new InvalidOperationException($"metric family {name} written twice");
        }

        _family = Encoding.UTF8.GetBytes(name);
        Write("# HELP "u8);
        Write(_family);
        Write(" "u8);
        WriteEscaped(help, escapeQuote: false);
        Write("\n# TYPE "u8);
        Write(_family);
        Write(type == MetricType.Counter ? " counter\n"u8 : " gauge\n"u8);
    }

    public void Sample(double value)
    {
        WriteFamilyName();
        EndSample(value);
    }

    public void Sample(string label, string labelValue, double value)
    {
        WriteFamilyName();
        Write("{"u8);
        WriteLabel(label, labelValue);
        Write("}"u8);
        EndSample(value);
    }

    public void Sample(string label1, string value1, string label2, string value2, double value)
    {
        WriteFamilyName();
        Write("{"u8);
        WriteLabel(label1, value1);
        Write(","u8);
        WriteLabel(label2, value2);
        Write("}"u8);
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

        Write(other._buffer.WrittenSpan);
    }

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.WrittenMemory;

    public override string ToString() => Encoding.UTF8.GetString(_buffer.WrittenSpan);

    public byte[] ToUtf8() => _buffer.WrittenSpan.ToArray();

    private void WriteFamilyName()
    {
        if (_family.Length == 0)
        {
            throw new InvalidOperationException("Sample before Family");
        }

        Write(_family);
    }

    private void Write(ReadOnlySpan<byte> bytes) => _buffer.Write(bytes);

    private void WriteLabel(string name, string value)
    {
        WriteString(name);
        Write("=\""u8);
        WriteEscaped(value, escapeQuote: true);
        Write("\""u8);
    }

    private void WriteString(ReadOnlySpan<char> s)
    {
        var span = _buffer.GetSpan(Encoding.UTF8.GetMaxByteCount(s.Length));
        _buffer.Advance(Encoding.UTF8.GetBytes(s, span));
    }

    private void WriteEscaped(string s, bool escapeQuote)
    {
        var rest = s.AsSpan();
        while (true)
        {
            var i = escapeQuote ? rest.IndexOfAny('\\', '\n', '"') : rest.IndexOfAny('\\', '\n');
            if (i < 0)
            {
                WriteString(rest);
                return;
            }

            WriteString(rest[..i]);
            Write(rest[i] switch
            {
                '\\' => @"\\"u8,
                '\n' => @"\n"u8,
                _ => "\\\""u8,
            });
            rest = rest[(i + 1)..];
        }
    }

    private void EndSample(double value)
    {
        Write(" "u8);
        WriteValue(value);
        Write("\n"u8);
    }

    private void WriteValue(double value)
    {
        if (double.IsNaN(value))
        {
            Write("NaN"u8);
        }
        else if (double.IsPositiveInfinity(value))
        {
            Write("+Inf"u8);
        }
        else if (double.IsNegativeInfinity(value))
        {
            Write("-Inf"u8);
        }
        else
        {
            var span = _buffer.GetSpan(32);
            // Whole numbers below 2^53 (counters in bytes, ticks, requests) print exactly, without an exponent.
            var written = value == Math.Floor(value) && Math.Abs(value) < 9.007199254740992e15
                ? ((long)value).TryFormat(span, out var n, default, CultureInfo.InvariantCulture) ? n : 0
                : value.TryFormat(span, out n, "R", CultureInfo.InvariantCulture) ? n : 0;
            _buffer.Advance(written);
        }
    }
}
