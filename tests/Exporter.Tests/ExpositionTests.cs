using Loadshift.Exporter.Exposition;

namespace Loadshift.Exporter.Tests;

public class MetricWriterTests
{
    [Fact]
    public void Help_and_type_come_once_before_the_samples_of_their_family()
    {
        var w = new MetricWriter();
        w.Family("a_total", MetricType.Counter, "A counter.");
        w.Sample("x", "1", 1);
        w.Sample("x", "2", 2);
        w.Family("b", MetricType.Gauge, "A gauge.");
        w.Sample(3);

        Assert.Equal(
            "# HELP a_total A counter.\n# TYPE a_total counter\na_total{x=\"1\"} 1\na_total{x=\"2\"} 2\n" +
            "# HELP b A gauge.\n# TYPE b gauge\nb 3\n",
            w.ToString());
    }

    [Fact]
    public void Label_values_escape_backslash_quote_and_newline_and_help_escapes_backslash_and_newline()
    {
        var w = new MetricWriter();
        w.Family("m", MetricType.Gauge, "path C:\\x \"quoted\"\nsecond line");
        w.Sample("domain", "we\"ird\\name\nx", 1);

        Assert.Equal(
            "# HELP m path C:\\\\x \"quoted\"\\nsecond line\n# TYPE m gauge\nm{domain=\"we\\\"ird\\\\name\\nx\"} 1\n",
            w.ToString());
    }

    [Theory]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "+Inf")]
    [InlineData(double.NegativeInfinity, "-Inf")]
    [InlineData(0.5, "0.5")]
    [InlineData(-2.25, "-2.25")]
    [InlineData(1234567890123.0, "1234567890123")]
    [InlineData(1e20, "1E+20")]
    [InlineData(1.5e-7, "1.5E-07")]
    public void Numbers_are_written_in_the_invariant_culture(double value, string expected)
    {
        var w = new MetricWriter();
        w.Family("m", MetricType.Gauge, "h");
        w.Sample(value);

        Assert.EndsWith($"\nm {expected}\n", w.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_family_written_twice_is_refused_so_its_samples_never_split()
    {
        var w = new MetricWriter();
        w.Family("m", MetricType.Gauge, "h");
        Assert.Throws<InvalidOperationException>(() => w.Family("m", MetricType.Gauge, "h"));

        var other = new MetricWriter();
        other.Family("m", MetricType.Gauge, "h");
        Assert.Throws<InvalidOperationException>(() => w.Append(other));
    }

    [Fact]
    public async Task Promtool_accepts_escaped_and_special_values()
    {
        var w = new MetricWriter();
        w.Family("test_weird_labels", MetricType.Gauge, "Label values with every escape; help with a \\ and\na newline.");
        w.Sample("domain", "a\"b\\c\nd", double.NaN);
        w.Sample("domain", "plain", double.PositiveInfinity);
        w.Family("test_events_total", MetricType.Counter, "A counter.");
        w.Sample("domain", "x", "device", "vda", 12);

        await Tool.AssertPromtoolAcceptsAsync(w.ToString());
    }
}
