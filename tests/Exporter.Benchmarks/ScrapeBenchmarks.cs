using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using Loadshift.Exporter.Collectors;
using Loadshift.Exporter.Libvirt;
using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;

namespace Loadshift.Exporter.Benchmarks;

/// <summary>
/// One scrape's libvirt part for many domains: bulk stats records (as copied out of libvirt) mapped to samples, set
/// on the prometheus-net families (the before-collect callback's work) and serialized by prometheus-net to the text
/// exposition, into a stream that only counts (Kestrel's response body stands there in the exporter). Run:
/// dotnet run -c Release --project tests/Exporter.Benchmarks -- --filter '*'
/// </summary>
[MemoryDiagnoser]
[InProcess]
public class ScrapeBenchmarks
{
    private LibvirtCollector _collector = null!;
    private CollectorRegistry _registry = null!;

    [Params(1000)]
    public int Domains { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        IReadOnlyList<DomainStatsRecord> records = [.. Enumerable.Range(0, Domains).Select(Synthetic)];
        _registry = Metrics.NewCustomRegistry();
        _collector = new LibvirtCollector(new Fixed(records), "test:///bench", Metrics.WithCustomRegistry(_registry),
            NullLogger<LibvirtCollector>.Instance);
        CollectAsync().GetAwaiter().GetResult(); // the series exist before Expose runs alone
    }

    /// <summary>A whole scrape's libvirt part: what the target (5 ms, 1 MB per scrape) is about.</summary>
    [Benchmark]
    public async Task<long> CollectAndExpose()
    {
        await CollectAsync();
        return await ExposeAsync();
    }

    /// <summary>Its first half: records to samples to prometheus-net's series (the before-collect callback).</summary>
    [Benchmark]
    public Task Collect() => CollectAsync();

    /// <summary>Its second half: prometheus-net writing the text exposition of the series set.</summary>
    [Benchmark]
    public Task<long> Expose() => ExposeAsync();

    private Task<bool> CollectAsync() => _collector.CollectAsync(new ScrapeContext(TimeSpan.FromSeconds(5)), CancellationToken.None);

    private async Task<long> ExposeAsync()
    {
        await using var output = new CountingStream();
        await _registry.CollectAndExportAsTextAsync(output);
        return output.Length;
    }

    /// <summary>A running domain with 2 vCPUs, one NIC and one disk: the keys libvirt 9.0 reports for QEMU.</summary>
    private static DomainStatsRecord Synthetic(int i)
    {
        var stats = new List<KeyValuePair<string, StatValue>>
        {
            new("state.state", StatValue.Of(1)), new("state.reason", StatValue.Of(1)),
            new("cpu.time", StatValue.Of(4.8e10 + i)), new("cpu.user", StatValue.Of(3e10 + i)), new("cpu.system", StatValue.Of(1.1e10 + i)),
            new("balloon.current", StatValue.Of(1048576)), new("balloon.maximum", StatValue.Of(1048576)), new("balloon.rss", StatValue.Of(700000 + i)),
            new("vcpu.current", StatValue.Of(2)), new("vcpu.maximum", StatValue.Of(2)),
            new("vcpu.0.state", StatValue.Of(1)), new("vcpu.0.time", StatValue.Of(2e10 + i)), new("vcpu.0.wait", StatValue.Of(0)),
            new("vcpu.1.state", StatValue.Of(1)), new("vcpu.1.time", StatValue.Of(2e10 + i)), new("vcpu.1.wait", StatValue.Of(0)),
            new("net.count", StatValue.Of(1)), new("net.0.name", StatValue.Of($"vnet{i}")),
            new("net.0.rx.bytes", StatValue.Of(2785204 + i)), new("net.0.rx.pkts", StatValue.Of(20831)), new("net.0.rx.errs", StatValue.Of(0)), new("net.0.rx.drop", StatValue.Of(0)),
            new("net.0.tx.bytes", StatValue.Of(35107733 + i)), new("net.0.tx.pkts", StatValue.Of(24577)), new("net.0.tx.errs", StatValue.Of(0)), new("net.0.tx.drop", StatValue.Of(0)),
            new("block.count", StatValue.Of(1)), new("block.0.name", StatValue.Of("vda")), new("block.0.path", StatValue.Of($"/srv/vm{i}.qcow2")),
            new("block.0.rd.reqs", StatValue.Of(3120 + i)), new("block.0.rd.bytes", StatValue.Of(91017216)), new("block.0.rd.times", StatValue.Of(1843093128)),
            new("block.0.wr.reqs", StatValue.Of(211 + i)), new("block.0.wr.bytes", StatValue.Of(1126400)), new("block.0.wr.times", StatValue.Of(228394811)),
            new("block.0.allocation", StatValue.Of(104857600)), new("block.0.capacity", StatValue.Of(1073741824)),
        };
        return new DomainStatsRecord($"vm-{i:D4}", Guid.NewGuid().ToString(), stats);
    }

    private sealed class Fixed(IReadOnlyList<DomainStatsRecord> records) : IDomainStatsSource
    {
        public Task<IReadOnlyList<DomainStatsRecord>> GetAllDomainStatsAsync(StatsGroups groups, TimeSpan deadline, CancellationToken cancellationToken) =>
            Task.FromResult(records);
    }

    /// <summary>Counts what is written and keeps none of it.</summary>
    private sealed class CountingStream : Stream
    {
        private long _length;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _length;

        public override long Position { get => _length; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => _length = value;

        public override void Write(byte[] buffer, int offset, int count) => _length += count;

        public override void Write(ReadOnlySpan<byte> buffer) => _length += buffer.Length;

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            _length += count;
            return Task.CompletedTask;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _length += buffer.Length;
            return ValueTask.CompletedTask;
        }
    }

    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(ScrapeBenchmarks).Assembly).Run(args);
}
