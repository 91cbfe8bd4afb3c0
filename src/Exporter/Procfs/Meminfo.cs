using System.Globalization;

namespace Loadshift.Exporter.Procfs;

/// <summary>Host memory as procps-ng 4's <c>free</c> computes it from /proc/meminfo.</summary>
internal sealed record MemoryFigures(
    ulong TotalBytes, ulong FreeBytes, ulong AvailableBytes, ulong UsedBytes, ulong BuffCacheBytes,
    ulong SwapTotalBytes, ulong SwapFreeBytes);

internal static class Meminfo
{
    /// <summary>Parses "Key:   value kB" lines; values with a kB unit become bytes, unitless ones stay counts.</summary>
    public static Dictionary<string, ulong> Parse(string text)
    {
        var values = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (var rawLine in text.AsSpan().EnumerateLines())
        {
            var line = rawLine.Trim();
            if (line.IsEmpty)
            {
                continue;
            }

            var colon = line.IndexOf(':');
            if (colon <= 0)
            {
                throw new FormatException($"/proc/meminfo: line without 'key:': '{line}'");
            }

            var key = line[..colon].ToString();
            var rest = line[(colon + 1)..].Trim();
            var multiplier = 1UL;
            if (rest.EndsWith(" kB", StringComparison.Ordinal))
            {
                multiplier = 1024;
                rest = rest[..^3].TrimEnd();
            }

            if (!ulong.TryParse(rest, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                throw new FormatException($"/proc/meminfo: value of {key} is not a number: '{rest}'");
            }

            values[key] = value * multiplier;
        }

        return values;
    }

    /// <summary>
    /// free(1): used = total - available; buff/cache = Buffers + Cached + SReclaimable (SReclaimable absent on
    /// old kernels counts as 0); without MemAvailable (kernels before 3.14) available falls back to MemFree.
    /// </summary>
    public static MemoryFigures ToFigures(IReadOnlyDictionary<string, ulong> values)
    {
        ulong Get(string key) =>
            values.TryGetValue(key, out var v) ? v : throw new FormatException($"/proc/meminfo: no {key} line");
        ulong GetOrZero(string key) => values.GetValueOrDefault(key);

        var total = Get("MemTotal");
        var free = Get("MemFree");
        var available = values.TryGetValue("MemAvailable", out var a) ? a : free;
        if (available > total)
        {
            available = total;
        }

        return new MemoryFigures(
            TotalBytes: total,
            FreeBytes: free,
            AvailableBytes: available,
            UsedBytes: total - available,
            BuffCacheBytes: GetOrZero("Buffers") + GetOrZero("Cached") + GetOrZero("SReclaimable"),
            SwapTotalBytes: GetOrZero("SwapTotal"),
            SwapFreeBytes: GetOrZero("SwapFree"));
    }
}
