using System.Globalization;

namespace Loadshift.Lab.Demo;

internal static class Format
{
    /// <summary>A ratio as a whole percentage, "87%"; "unknown" when there is none.</summary>
    public static string Percent(double? ratio) =>
        ratio is { } r ? (r * 100).ToString("0", CultureInfo.InvariantCulture) + "%" : "unknown";
}
