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
/// The text goes into chunks borrowed from <see cref="ArrayPool{T}.Shared"/>, each twice the size of the one
/// before, so that growing never copies; Dispose gives them back (a writer that is not disposed leaves them to
/// the garbage collector).
/// </summary>
internal sealed class MetricWriter : IDisposable
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private const int FirstChunkSize = 4096;

    /// <summary>Chunks double up to this size; 1 MiB is the largest array every .NET version's shared pool keeps.</summary>
    private const int LargestChunkSize = 1 << 20;

    /// <summary>Room for one number: "-1.2345678901234567E-308" has 24 bytes.</summary>
    private const int NumberBytes = 32;

    private readonly List<(byte[] Chunk, int Length)> _full = [];
    private readonly HashSet<string> _families = new(StringComparer.Ordinal);
    private byte[] _chunk = [];
    private int _used;
    private int _fullLength;
    private byte[] _family = [];

    public int Length => _fullLength + _used;

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
        Advance(WriteEscaped(GetSpan(Encoding.UTF8.GetMaxByteCount(help.Length)), help, escapeQuote: false));
        Write("\n# TYPE "u8);
        Write(_family);
        Write(type == MetricType.Counter ? " counter\n"u8 : " gauge\n"u8);
    }

    public void Sample(double value) => WriteSample([], [], value);

    public void Sample(string label, string labelValue, double value) => EncodeAndSample(label, labelValue, null, null, value);

    public void Sample(string label1, string value1, string label2, string value2, double value) =>
        EncodeAndSample(label1, value1, label2, value2, value);

    /// <summary>A sample with a label pair encoded once for many samples (<see cref="LabelPairs"/>).</summary>
    public void Sample(ReadOnlySpan<byte> labelPair, double value) => WriteSample(labelPair, [], value);

    /// <summary>A sample with two label pairs encoded once for many samples (<see cref="LabelPairs"/>).</summary>
    public void Sample(ReadOnlySpan<byte> labelPair1, ReadOnlySpan<byte> labelPair2, double value) =>
        WriteSample(labelPair1, labelPair2, value);

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

        foreach (var (chunk, length) in other._full)
        {
            Write(chunk.AsSpan(0, length));
        }

        Write(other._chunk.AsSpan(0, other._used));
    }

    public override string ToString() => Encoding.UTF8.GetString(ToUtf8());

    /// <summary>Everything written so far, in one array of its own.</summary>
    public byte[] ToUtf8()
    {
        var result = GC.AllocateUninitializedArray<byte>(Length);
        var at = 0;
        foreach (var (chunk, length) in _full)
        {
            chunk.AsSpan(0, length).CopyTo(result.AsSpan(at));
            at += length;
        }

        _chunk.AsSpan(0, _used).CopyTo(result.AsSpan(at));
        return result;
    }

    public void Dispose()
    {
        foreach (var (chunk, _) in _full)
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        if (_chunk.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_chunk);
        }

        _full.Clear();
        _fullLength = 0;
        _chunk = [];
        _used = 0;
    }

    /// <summary>Encodes the pairs into a borrowed buffer first, so that the sample goes into one piece of a chunk.</summary>
    private void EncodeAndSample(string label1, string value1, string? label2, string? value2, double value)
    {
        var pairs = ArrayPool<byte>.Shared.Rent(
            MaxLabelPairBytes(label1, value1) + (label2 is null ? 0 : MaxLabelPairBytes(label2, value2 ?? "")));
        var length1 = WriteLabelPair(pairs, label1, value1);
        var length2 = label2 is null ? 0 : WriteLabelPair(pairs.AsSpan(length1), label2, value2 ?? "");
        WriteSample(pairs.AsSpan(0, length1), pairs.AsSpan(length1, length2), value);
        ArrayPool<byte>.Shared.Return(pairs);
    }

    /// <summary>The most bytes <see cref="WriteLabelPair"/> writes for these strings: a char takes at most 3 bytes
    /// of UTF-8 and an escaped one 2, plus the 3 of ="".</summary>
    internal static int MaxLabelPairBytes(string name, string value) =>
        Encoding.UTF8.GetMaxByteCount(name.Length + value.Length) + 3;

    /// <summary>Writes name="value" with the value escaped; returns the bytes written.</summary>
    internal static int WriteLabelPair(Span<byte> destination, string name, string value)
    {
        var n = Encoding.UTF8.GetBytes(name, destination);
        "=\""u8.CopyTo(destination[n..]);
        n += 2;
        n += WriteEscaped(destination[n..], value, escapeQuote: true);
        destination[n++] = (byte)'"';
        return n;
    }

    /// <summary>Writes s in UTF-8 with backslash, newline and (when asked) double quote escaped; returns the bytes
    /// written. The destination needs room for <see cref="Encoding.GetMaxByteCount"/> of s.</summary>
    private static int WriteEscaped(Span<byte> destination, ReadOnlySpan<char> s, bool escapeQuote)
    {
        var n = 0;
        while (true)
        {
            var i = escapeQuote ? s.IndexOfAny('\\', '\n', '"') : s.IndexOfAny('\\', '\n');
            if (i < 0)
            {
                return n + Encoding.UTF8.GetBytes(s, destination[n..]);
            }

            n += Encoding.UTF8.GetBytes(s[..i], destination[n..]);
            var escape = s[i] switch
            {
                '\\' => @"\\"u8,
                '\n' => @"\n"u8,
                _ => "\\\""u8,
            };
            escape.CopyTo(destination[n..]);
            n += escape.Length;
            s = s[(i + 1)..];
        }
    }

    /// <summary>family{pair1,pair2} value, with the braces only when there is a label, in one piece of a chunk.</summary>
    private void WriteSample(ReadOnlySpan<byte> labelPair1, ReadOnlySpan<byte> labelPair2, double value)
    {
        if (_family.Length == 0)
        {
            throw new InvalidOperationException("Sample before Family");
        }

        var span = GetSpan(_family.Length + labelPair1.Length + labelPair2.Length + 4 + NumberBytes);
        _family.CopyTo(span);
        var n = _family.Length;
        if (labelPair1.Length > 0)
        {
            span[n++] = (byte)'{';
            labelPair1.CopyTo(span[n..]);
            n += labelPair1.Length;
            if (labelPair2.Length > 0)
            {
                span[n++] = (byte)',';
                labelPair2.CopyTo(span[n..]);
                n += labelPair2.Length;
            }

            span[n++] = (byte)'}';
        }

        span[n++] = (byte)' ';
        n += WriteValue(span[n..], value);
        span[n++] = (byte)'\n';
        Advance(n);
    }

    private static int WriteValue(Span<byte> destination, double value)
    {
        if (double.IsNaN(value))
        {
            return Copy("NaN"u8, destination);
        }

        if (double.IsInfinity(value))
        {
            return Copy(value > 0 ? "+Inf"u8 : "-Inf"u8, destination);
        }

        // Whole numbers below 2^53 (counters in bytes, ticks, requests) print exactly, without an exponent.
        return value == Math.Floor(value) && Math.Abs(value) < 9.007199254740992e15
            ? ((long)value).TryFormat(destination, out var n, default, CultureInfo.InvariantCulture) ? n : 0
            : value.TryFormat(destination, out n, "R", CultureInfo.InvariantCulture) ? n : 0;

        static int Copy(ReadOnlySpan<byte> text, Span<byte> destination)
        {
            text.CopyTo(destination);
            return text.Length;
        }
    }

    private void Write(ReadOnlySpan<byte> bytes)
    {
        while (true)
        {
            var room = _chunk.AsSpan(_used);
            if (bytes.Length <= room.Length)
            {
                bytes.CopyTo(room);
                _used += bytes.Length;
                return;
            }

            bytes[..room.Length].CopyTo(room);
            _used += room.Length;
            bytes = bytes[room.Length..];
            NextChunk(1);
        }
    }

    /// <summary>At least sizeHint bytes of room in the current chunk, to be followed by <see cref="Advance"/>.</summary>
    private Span<byte> GetSpan(int sizeHint)
    {
        if (_chunk.Length - _used < sizeHint)
        {
            NextChunk(sizeHint);
        }

        return _chunk.AsSpan(_used);
    }

    private void Advance(int count) => _used += count;

    private void NextChunk(int sizeHint)
    {
        var size = Math.Max(sizeHint, _chunk.Length == 0 ? FirstChunkSize : Math.Min(_chunk.Length * 2, LargestChunkSize));
        if (_used > 0)
        {
            _full.Add((_chunk, _used));
            _fullLength += _used;
        }
        else if (_chunk.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_chunk);
        }

        _chunk = ArrayPool<byte>.Shared.Rent(size);
        _used = 0;
    }
}
