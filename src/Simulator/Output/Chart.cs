using Loadshift.Simulator.Simulation;
using ScottPlot;

namespace Loadshift.Simulator.Output;

/// <summary>The PNG: per policy, the busiest host's busy ratio over time (left axis) and the migrations so far
/// (right axis, dashed), drawn with ScottPlot.</summary>
public static class Chart
{
    public static void Save(IReadOnlyList<PolicyResult> results, double highWatermark, string path, string title, int width = 1400, int height = 700)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var hours = results.Count > 0 && results[0].Series.Seconds.Count > 0 && results[0].Series.Seconds[^1] > 2 * 86400;
        for (var i = 0; i < results.Count; i++)
        {
            var r = results[i];
            var color = palette.GetColor(i);
            var x = r.Series.Seconds.Select(s => hours ? s / 3600 : s / 60).ToArray();
            var busy = plot.Add.SignalXY(x, [.. r.Series.BusiestBusyRatio]);
            busy.Color = color;
            busy.LineWidth = 1;
            busy.LegendText = $"{r.Policy}: busiest host";
            var total = 0;
            var cumulative = r.Series.Migrations.Select(m => (double)(total += m)).ToArray();
            var moves = plot.Add.SignalXY(x, cumulative);
            moves.Color = color;
            moves.LinePattern = LinePattern.Dashed;
            moves.LineWidth = 2;
            moves.LegendText = $"{r.Policy}: migrations ({r.Migrations})";
            moves.Axes.YAxis = plot.Axes.Right;
        }
        var mark = plot.Add.HorizontalLine(highWatermark);
        mark.Color = Colors.Gray;
        mark.LinePattern = LinePattern.Dotted;
        mark.LegendText = $"high watermark {highWatermark:0.00}";
        plot.Title(title);
        plot.XLabel(hours ? "hours" : "minutes");
        plot.YLabel("busiest host's busy ratio (1m)");
        plot.Axes.Right.Label.Text = "migrations so far (dashed)";
        plot.Axes.SetLimitsY(0, 1.05, plot.Axes.Left);
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(path, width, height);
    }
}
