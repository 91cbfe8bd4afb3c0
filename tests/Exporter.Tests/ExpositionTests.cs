using System.Globalization;
using System.Text;
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

        await Tool.AssertPromtoolAcceptsMetricsAsync(w.ToString());
    }
}

public class MetricWriterChunkTests
{
    /// <summary>What MetricWriter must write for one sample with one label, built the plain way.</summary>
    private static string Expected(string family, string label, string value, int sample) =>
        $"{family}{{{label}=\"{value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)}\"}} {sample}\n";

    [Fact]
    public void Text_longer_than_many_chunks_comes_out_whole_and_in_order()
    {
        using var w = new MetricWriter();
        var expected = new StringBuilder("# HELP m h\n# TYPE m gauge\n");
        w.Family("m", MetricType.Gauge, "h");
        for (var i = 0; i < 100_000; i++)
        {
            var value = $"domain-{i} \"ü\" \\ {new string('x', i % 50)}";
            w.Sample("domain", value, i);
            expected.Append(Expected("m", "domain", value, i));
        }

        var text = w.ToString();
        Assert.Equal(expected.ToString(), text);
        Assert.Equal(Encoding.UTF8.GetByteCount(text), w.Length);
    }

    [Fact]
    public void A_label_value_larger_than_a_chunk_fits()
    {
        using var w = new MetricWriter();
        var value = string.Concat(Enumerable.Repeat("a\"b\nc\\", 20_000));
        w.Family("m", MetricType.Gauge, "h");
        w.Sample("domain", value, 1);
        w.Sample(2);

        Assert.Equal("# HELP m h\n# TYPE m gauge\n" + Expected("m", "domain", value, 1) + "m 2\n", w.ToString());
    }

    [Fact]
    public void Append_copies_every_chunk_of_the_other_writer()
    {
        using var big = new MetricWriter();
        big.Family("big", MetricType.Counter, "many samples");
        for (var i = 0; i < 50_000; i++)
        {
            big.Sample("n", i.ToString(CultureInfo.InvariantCulture), i);
        }

        using var all = new MetricWriter();
        all.Family("first", MetricType.Gauge, "h");
        all.Sample(1);
        all.Append(big);
        all.Family("last", MetricType.Gauge, "h");
        all.Sample(2);

        Assert.Equal("# HELP first h\n# TYPE first gauge\nfirst 1\n" + big + "# HELP last h\n# TYPE last gauge\nlast 2\n", all.ToString());
    }

    [Fact]
    public void Pairs_encoded_once_write_what_the_string_labels_write()
    {
        string[] values = ["vm-1", "we\"ird\\name\nx", "", "dömäin", new string('v', 5000)];
        using var pairs = new LabelPairs(1); // too small on purpose: it has to grow
        var ids = values.Select(v => pairs.Add("domain", v)).ToArray();
        var device = pairs.Add("device", "vda");
        using var byPairs = new MetricWriter();
        using var byStrings = new MetricWriter();
        byPairs.Family("m", MetricType.Counter, "h");
        byStrings.Family("m", MetricType.Counter, "h");

        for (var i = 0; i < values.Length; i++)
        {
            byPairs.Sample(pairs[ids[i]], i);
            byStrings.Sample("domain", values[i], i);
            byPairs.Sample(pairs[ids[i]], pairs[device], 0.5);
            byStrings.Sample("domain", values[i], "device", "vda", 0.5);
        }

        Assert.Equal(values.Length + 1, pairs.Count);
        Assert.Equal(byStrings.ToString(), byPairs.ToString());
    }
}
