using System.Globalization;
using nietras.SeparatedValues;

namespace Loadshift.Simulator.Inputs;

/// <summary>The CSV conventions of the simulator's inputs (Sep reads them): a header, commas, errors that name
/// the file and the line.</summary>
internal static class Csv
{
    public static SepReader Open(Stream stream, string source)
    {
        try
        {
            return Sep.New(',').Reader(o => o with { HasHeader = true, DisableColCountCheck = true, Trim = SepTrim.All })
                .From(stream);
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException)
        {
            throw new InputException($"{source}:1: {e.Message}", e);
        }
    }

    public static int Column(SepReader reader, string source, string name) =>
        reader.Header.TryIndexOf(name, out var index)
            ? index
            : throw new InputException($"{source}:1: the header has no column '{name}' (it has: {string.Join(",", reader.Header.ColNames)})");

    public static int? OptionalColumn(SepReader reader, string name) =>
        reader.Header.TryIndexOf(name, out var index) ? index : null;

    public static void CheckColumns(SepReader.Row row, int expected, string source)
    {
        if (row.ColCount != expected)
        {
            throw new InputException($"{source}:{row.LineNumberFrom}: {row.ColCount} column(s), the header has {expected}");
        }
    }

    public static double Number(ReadOnlySpan<char> text, string source, int line, string column)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value) || value < 0)
        {
            throw new InputException($"{source}:{line}: {column} '{text}' is not a non-negative number");
        }
        return value;
    }

    public static long Bytes(ReadOnlySpan<char> text, string source, int line, string column)
    {
        if (text.IsEmpty)
        {
            return 0;
        }
        if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < 0)
        {
            // Prometheus writes large byte counts in exponent form (2.147483648e+09).
            return (long)Number(text, source, line, column);
        }
        return value;
    }
}
