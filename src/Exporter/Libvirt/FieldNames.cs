using System.Text;

namespace Loadshift.Exporter.Libvirt;

/// <summary>
/// Typed parameters' field names ("cpu.time", "net.0.rx.bytes") as strings, each made once: every collection
/// brings the same few dozen names per domain, so a name is looked up by its UTF-8 bytes rather than decoded into
/// a new string each time. Not thread-safe; a <see cref="LibvirtStatsSource"/> runs one collection at a time.
/// </summary>
internal sealed class FieldNames
{
    /// <summary>Names kept at most. A host with many domains, disks and NICs has a few hundred (the indexed
    /// groups repeat across domains); past this, names are still returned, only not kept.</summary>
    public const int MostKept = 4096;

    private readonly Dictionary<string, string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _byChars;

    public FieldNames() => _byChars = _names.GetAlternateLookup<ReadOnlySpan<char>>();

    public int Count => _names.Count;

    /// <summary>The name in a NUL-padded field (virTypedParameter.field, <see cref="VirTypedParameter.FieldLength"/>
    /// bytes), decoded as Marshal.PtrToStringUTF8 would.</summary>
    public string Get(ReadOnlySpan<byte> field)
    {
        var nul = field.IndexOf((byte)0);
        var utf8 = nul < 0 ? field : field[..nul];
        Span<char> chars = stackalloc char[VirTypedParameter.FieldLength];
        if (!Encoding.UTF8.TryGetChars(utf8, chars, out var length))
        {
            return Encoding.UTF8.GetString(utf8);
        }

        if (_byChars.TryGetValue(chars[..length], out var name))
        {
            return name;
        }

        name = new string(chars[..length]);
        if (_names.Count < MostKept)
        {
            _names.Add(name, name);
        }

        return name;
    }
}
