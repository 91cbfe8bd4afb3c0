using System.Buffers;

namespace Loadshift.Exporter.Exposition;

/// <summary>
/// Label pairs (name="value", escaped, UTF-8) encoded once for labels that many samples carry: a domain's name is
/// on some thirty samples of a scrape. One buffer borrowed from the shared pool holds them all; Dispose gives it
/// back.
/// </summary>
internal sealed class LabelPairs : IDisposable
{
    private readonly List<(int Start, int Length)> _pairs;
    private byte[] _bytes;
    private int _used;

    /// <param name="expected">How many pairs are likely, to size the buffers once.</param>
    public LabelPairs(int expected)
    {
        _pairs = new List<(int, int)>(expected);
        _bytes = ArrayPool<byte>.Shared.Rent(Math.Max(expected, 1) * 32);
    }

    public int Count => _pairs.Count;

    /// <summary>The pair with this number: the Count before it was added.</summary>
    public ReadOnlySpan<byte> this[int pair]
    {
        get
        {
            var (start, length) = _pairs[pair];
            return _bytes.AsSpan(start, length);
        }
    }

    /// <summary>Adds a pair and returns its number.</summary>
    public int Add(string name, string value)
    {
        var most = MetricWriter.MaxLabelPairBytes(name, value);
        if (_bytes.Length - _used < most)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_bytes.Length * 2, _used + most));
            _bytes.AsSpan(0, _used).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_bytes);
            _bytes = bigger;
        }

        var length = MetricWriter.WriteLabelPair(_bytes.AsSpan(_used), name, value);
        _pairs.Add((_used, length));
        _used += length;
        return _pairs.Count - 1;
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_bytes);
        _bytes = [];
        _used = 0;
        _pairs.Clear();
    }
}
