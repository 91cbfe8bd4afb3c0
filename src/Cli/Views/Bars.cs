using System.Globalization;
using System.Text;

namespace Loadshift.Cli.Views;

/// <summary>Text bars for a terminal: a ratio as filled cells, a watermark as a mark in the bar.</summary>
internal static class Bars
{
    /// <summary>A bar of <paramref name="width"/> cells for 0..1, coloured against the watermarks (green under the low
    /// one, yellow between, red above the high one), the high watermark drawn as │ where it falls; grey dots when unknown.</summary>
    public static string Ratio(double? ratio, double high, double low, int width = 20)
    {
        if (ratio is not double value)
        {
            return $"[grey]{new string('·', width)}[/] [grey]   ?[/]";
        }
        var colour = value > high ? "red" : value >= low ? "yellow" : "green";
        var filled = (int)Math.Round(Math.Clamp(value, 0, 1) * width);
        var mark = (int)Math.Round(high * width);
        var text = new StringBuilder();
        for (var i = 0; i < width; i++)
        {
            text.Append(i == mark && i >= filled ? '│' : i < filled ? '█' : '░');
        }
        var cells = text.ToString();
        return $"[{colour}]{cells[..filled]}[/][grey]{cells[filled..]}[/] [{colour}]{value.ToString("0.00", CultureInfo.InvariantCulture),4}[/]";
    }

    /// <summary>A progress bar of copied data: "███░░ 62% 310 MiB of 500 MiB".</summary>
    public static string Progress(JobProgress? job, int width = 30)
    {
        if (job is not { TotalBytes: > 0 })
        {
            // libvirt reports no job yet, or a job with no figures yet (its first moments: data_total 0).
            return $"[grey]{new string('░', width)} starting[/]";
        }
        var filled = (int)Math.Round(job.Ratio * width);
        return $"[blue]{new string('█', filled)}[/][grey]{new string('░', width - filled)}[/] {job.Ratio * 100,3:0}% " +
            $"{Bytes(job.TotalBytes - job.RemainingBytes)} of {Bytes(job.TotalBytes)}";
    }

    /// <summary>Bytes in binary units, as libvirt and free(1) print them.</summary>
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        var unit = 0;
        while (Math.Abs(value) >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return unit == 0 ? $"{bytes} B" : $"{value.ToString(value < 10 ? "0.0" : "0", CultureInfo.InvariantCulture)} {units[unit]}";
    }

    public static string Share(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);

    public static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string Clock(DateTimeOffset at) => at.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture);
}
