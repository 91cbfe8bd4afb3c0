using System.Globalization;

namespace Loadshift.Exporter.Procfs;

internal readonly record struct LoadAverage(double Load1, double Load5, double Load15)
{
    /// <summary>Parses /proc/loadavg: "0.52 0.58 0.59 1/467 12345"; only the first three words are used.</summary>
    public static LoadAverage Parse(string text)
    {
        var words = text.Split(' ', 4, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (words.Length < 3)
        {
            throw new FormatException($"/proc/loadavg: expected three load averages, got '{text.Trim()}'");
        }

        return new LoadAverage(ParseOne(words[0]), ParseOne(words[1]), ParseOne(words[2]));

        static double ParseOne(string word) =>
            double.TryParse(word, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var v)
                ? v
                : throw new FormatException($"/proc/loadavg: '{word}' is not a load average");
    }
}
