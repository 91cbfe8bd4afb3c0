using nietras.SeparatedValues;

namespace Loadshift.Simulator.Inputs;

/// <summary>CSV with a header, columns <c>seconds,domain,cpu_cores</c> and optionally <c>memory_bytes</c>, sorted
/// by seconds, read as a stream (a week of 10,000 domains does not fit in memory as rows). Every error names the
/// line.</summary>
public sealed class TraceFile : ITrace
{
    private readonly Stream stream;
    private readonly SepReader reader;
    private readonly string source;
    private readonly IReadOnlyDictionary<string, int> domains;
    private readonly int secondsCol;
    private readonly int domainCol;
    private readonly int cpuCol;
    private readonly int? memoryCol;
    private readonly int columns;
    private readonly int[] stepLine;
    private bool pending;
    private bool ended;
    private long? previous;
    private long? step;

    public TraceFile(Stream stream, string source, IReadOnlyDictionary<string, int> domains)
    {
        this.stream = stream;
        this.source = source;
        this.domains = domains;
        reader = Csv.Open(stream, source);
        secondsCol = Csv.Column(reader, source, "seconds");
        domainCol = Csv.Column(reader, source, "domain");
        cpuCol = Csv.Column(reader, source, "cpu_cores");
        memoryCol = Csv.OptionalColumn(reader, "memory_bytes");
        columns = reader.Header.ColNames.Count;
        stepLine = new int[domains.Count];
        pending = reader.MoveNext();
        if (!pending)
        {
            throw new InputException($"{source}: the trace has no rows");
        }
    }

    public static TraceFile Open(string path, IReadOnlyDictionary<string, int> domains)
    {
        if (!File.Exists(path))
        {
            throw new InputException($"--trace: '{path}' does not exist");
        }
        return new TraceFile(File.OpenRead(path), path, domains);
    }

    public double Progress => stream.CanSeek && stream.Length > 0 ? (double)stream.Position / stream.Length : 0;

    public bool ReadStep(double[] cpuCores, long[] memoryBytes, out long seconds)
    {
        seconds = 0;
        if (ended || !pending)
        {
            return false;
        }
        var first = true;
        Array.Clear(stepLine);
        while (pending)
        {
            var row = reader.Current;
            var line = row.LineNumberFrom;
            Csv.CheckColumns(row, columns, source);
            var at = Seconds(row[secondsCol].Span, line);
            if (first)
            {
                if (previous is long before)
                {
                    if (at <= before)
                    {
                        throw new InputException($"{source}:{line}: seconds {at} after {before}: the trace must be sorted by seconds");
                    }
                    if (step is long s && at - before != s)
                    {
                        throw new InputException($"{source}:{line}: a step of {at - before} s after steps of {s} s: the trace's steps must be regular");
                    }
                    step = at - before;
                }
                seconds = at;
                first = false;
            }
            else if (at != seconds)
            {
                if (at < seconds)
                {
                    throw new InputException($"{source}:{line}: seconds {at} after {seconds}: the trace must be sorted by seconds");
                }
                break;
            }
            var name = row[domainCol].ToString();
            if (!domains.TryGetValue(name, out var index))
            {
                throw new InputException($"{source}:{line}: domain '{name}' is not in the placement");
            }
            if (stepLine[index] != 0)
            {
                throw new InputException($"{source}:{line}: domain '{name}' appears twice at {at} s (first on line {stepLine[index]})");
            }
            stepLine[index] = line;
            cpuCores[index] = Csv.Number(row[cpuCol].Span, source, line, "cpu_cores");
            if (memoryCol is int m && !row[m].Span.IsEmpty)
            {
                memoryBytes[index] = Csv.Bytes(row[m].Span, source, line, "memory_bytes");
            }
            pending = reader.MoveNext();
        }
        previous = seconds;
        return true;
    }

    private long Seconds(ReadOnlySpan<char> text, int line)
    {
        var value = Csv.Number(text, source, line, "seconds");
        if (value != Math.Floor(value))
        {
            throw new InputException($"{source}:{line}: seconds '{text}' is not a whole number");
        }
        return (long)value;
    }

    public void Dispose()
    {
        ended = true;
        reader.Dispose();
        stream.Dispose();
    }
}
