using System.ComponentModel;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Loadshift.Rebalancer.Inventory;

/// <summary>Lets durations be written as Prometheus and Alertmanager write them (<c>90s</c>, <c>5m</c>,
/// <c>1h30m</c>, <c>250ms</c>) as well as <c>00:05:00</c>. Registered for <see cref="TimeSpan"/> so the
/// configuration binder uses it for every source (YAML, environment, command line).</summary>
internal sealed partial class DurationConverter : TimeSpanConverter
{
    private static int registered;

    public static void Register()
    {
        if (Interlocked.Exchange(ref registered, 1) == 0)
        {
            TypeDescriptor.AddAttributes(typeof(TimeSpan), new TypeConverterAttribute(typeof(DurationConverter)));
        }
    }

    public override object? ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value) =>
        value is string text && TryParse(text, out var duration) ? duration : base.ConvertFrom(context, culture, value);

    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        var match = DurationPattern().Match(text.Trim());
        if (!match.Success)
        {
            return false;
        }
        foreach (Capture part in match.Groups["part"].Captures)
        {
            var unitStart = part.Value.IndexOfAny(['m', 's', 'h', 'd', 'w']);
            var number = double.Parse(part.Value.AsSpan(0, unitStart), NumberStyles.Float, CultureInfo.InvariantCulture);
            duration += part.Value[unitStart..] switch
            {
                "ms" => TimeSpan.FromMilliseconds(number),
                "s" => TimeSpan.FromSeconds(number),
                "m" => TimeSpan.FromMinutes(number),
                "h" => TimeSpan.FromHours(number),
                "d" => TimeSpan.FromDays(number),
                _ => TimeSpan.FromDays(7 * number),
            };
        }
        return true;
    }

    /// <summary>Prometheus' duration format (a sequence of number+unit), with fractions allowed.</summary>
    [GeneratedRegex(@"^(?<part>\d+(\.\d+)?(ms|s|m|h|d|w))+$", RegexOptions.CultureInvariant)]
    private static partial Regex DurationPattern();

    public static string Format(TimeSpan duration) =>
        duration.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";
}
