using System.Globalization;
using Loadshift.Exporter.Collectors;
using Prometheus;

namespace Loadshift.Exporter.Libvirt;

/// <summary>The libvirt_* families, defined once and set from each scrape's domain samples.</summary>
internal sealed class DomainMetrics
{
    private const double NanosecondsPerSecond = 1e9;
    private const double BytesPerKibibyte = 1024;

    /// <summary>virDomainState names, indexed by code (libvirt-domain.h).</summary>
    public static readonly string[] StateNames =
        ["nostate", "running", "blocked", "paused", "shutdown", "shutoff", "crashed", "pmsuspended"];

    private readonly Gauge _domains;
    private readonly Gauge _info;
    private readonly Gauge _state;
    private readonly Gauge _stateReason;
    private readonly Counter _cpuTime;
    private readonly Counter _cpuUser;
    private readonly Counter _cpuSystem;
    private readonly Gauge _vcpus;
    private readonly Counter _vcpuTime;
    private readonly Gauge _memoryMaximum;
    private readonly Gauge _memoryCurrent;
    private readonly Gauge _memoryRss;
    private readonly Counter[] _block;
    private readonly Counter[] _interface;
    private readonly SeriesTable<string, DomainSeries> _byName = new();

    /// <param name="slowGroupsInterval">How often the vCPU and block groups are asked of libvirt at most
    /// (<see cref="SlowGroupsCache"/>), said in their families' HELP; zero when at every scrape.</param>
    public DomainMetrics(IMetricFactory metrics, TimeSpan slowGroupsInterval = default)
    {
        var slow = slowGroupsInterval > TimeSpan.Zero
            ? string.Create(CultureInfo.InvariantCulture,
                $" Asked of libvirt at most every {slowGroupsInterval.TotalSeconds:0.###} s (--collector.libvirt.slow-groups-interval): up to that old.")
            : "";
        _domains = metrics.CreateGauge("libvirt_domains", "Domains defined on the host, by virDomainState name.", ["state"]);
        _info = metrics.CreateGauge("libvirt_domain_info", "Always 1; the domain's name and UUID as labels.", ["domain", "uuid"]);
        _state = metrics.CreateGauge("libvirt_domain_state",
            "virDomainState code: 0 no state, 1 running, 2 blocked, 3 paused, 4 shutting down, 5 shut off, " +
            "6 crashed, 7 suspended by guest power management.", ["domain"]);
        _stateReason = metrics.CreateGauge("libvirt_domain_state_reason",
            "Why the domain is in its state: the virDomain<State>Reason code of libvirt-domain.h for that state " +
            "(running: 1 booted, 2 migrated, 5 unpaused, 6 migration canceled; paused: 1 user, 2 migration; " +
            "shut off: 1 shutdown, 2 destroyed, 3 crashed, 4 migrated).", ["domain"]);
        _cpuTime = metrics.CreateCounter("libvirt_domain_cpu_time_seconds_total",
            "CPU time used by the domain's QEMU process, all threads (bulk stats cpu.time); virt-top's %CPU is its rate.", ["domain"]);
        _cpuUser = metrics.CreateCounter("libvirt_domain_cpu_user_seconds_total",
            "User-mode part of the domain's CPU time (bulk stats cpu.user).", ["domain"]);
        _cpuSystem = metrics.CreateCounter("libvirt_domain_cpu_system_seconds_total",
            "Kernel-mode part of the domain's CPU time (bulk stats cpu.system).", ["domain"]);
        _vcpus = metrics.CreateGauge("libvirt_domain_vcpus",
            "Virtual CPUs currently online in the domain (bulk stats vcpu.current)." + slow, ["domain"]);
        _vcpuTime = metrics.CreateCounter("libvirt_domain_vcpu_time_seconds_total",
            "CPU time of each virtual CPU's thread (bulk stats vcpu.<n>.time, in nanoseconds as measured against " +
            "cpu.time on a running domain, whatever the virsh manual says)." + slow, ["domain", "vcpu"]);
        _memoryMaximum = metrics.CreateGauge("libvirt_domain_memory_maximum_bytes",
            "Memory the domain may use at most (bulk stats balloon.maximum).", ["domain"]);
        _memoryCurrent = metrics.CreateGauge("libvirt_domain_memory_current_bytes",
            "Memory the balloon currently gives the domain (bulk stats balloon.current): an allocation, not usage.", ["domain"]);
        _memoryRss = metrics.CreateGauge("libvirt_domain_memory_rss_bytes",
            "Resident memory of the domain's QEMU process on the host (bulk stats balloon.rss): what it really takes.", ["domain"]);
        _block =
        [
            metrics.CreateCounter("libvirt_domain_block_read_requests_total", "Read requests of the device (block.<n>.rd.reqs; virt-top's RDRQ)." + slow, ["domain", "device"]),
            metrics.CreateCounter("libvirt_domain_block_read_bytes_total", "Bytes read from the device (block.<n>.rd.bytes)." + slow, ["domain", "device"]),
            metrics.CreateCounter("libvirt_domain_block_write_requests_total", "Write requests of the device (block.<n>.wr.reqs; virt-top's WRRQ)." + slow, ["domain", "device"]),
            metrics.CreateCounter("libvirt_domain_block_write_bytes_total", "Bytes written to the device (block.<n>.wr.bytes)." + slow, ["domain", "device"]),
        ];
        _interface =
        [
            metrics.CreateCounter("libvirt_domain_interface_receive_bytes_total", "Bytes received by the domain on the interface (net.<n>.rx.bytes; virt-top's RXBY).", ["domain", "interface"]),
            metrics.CreateCounter("libvirt_domain_interface_receive_packets_total", "Packets received on the interface (net.<n>.rx.pkts).", ["domain", "interface"]),
            metrics.CreateCounter("libvirt_domain_interface_receive_errors_total", "Receive errors on the interface (net.<n>.rx.errs).", ["domain", "interface"]),
            metrics.CreateCounter("libvirt_domain_interface_receive_drops_total", "Received packets dropped on the interface (net.<n>.rx.drop).", ["domain", "interface"]),
            metrics.CreateCounter("libvirt_domain_interface_transmit_bytes_total", "Bytes sent by the domain on the interface (net.<n>.tx.bytes; virt-top's TXBY).", ["domain", "interface"]),
            metrics.CreateCounter("libvirt_domain_interface_transmit_packets_total", "Packets sent on the interface (net.<n>.tx.pkts).", ["domain", "interface"]),
            metrics.CreateCounter("libvirt_domain_interface_transmit_errors_total", "Transmit errors on the interface (net.<n>.tx.errs).", ["domain", "interface"]),
            metrics.CreateCounter("libvirt_domain_interface_transmit_drops_total", "Sent packets dropped on the interface (net.<n>.tx.drop).", ["domain", "interface"]),
        ];
        foreach (var state in StateNames)
        {
            _domains.WithLabels(state).Unpublish();
        }
    }

    /// <summary>Sets every family from this scrape's domains; the series of domains (and of their vCPUs, interfaces
    /// and devices) that are gone are removed.</summary>
    public void Update(IReadOnlyList<DomainSample> domains)
    {
        _byName.Begin();
        Span<int> perState = stackalloc int[StateNames.Length];
        perState.Clear();
        foreach (var d in domains)
        {
            if (d.State >= 0 && d.State < StateNames.Length)
            {
                perState[d.State]++;
            }

            Update(_byName.Get(d.Name, 0, static (name, _) => new DomainSeries(name)), d);
        }

        for (var s = 0; s < StateNames.Length; s++)
        {
            _domains.WithLabels(StateNames[s]).Set(perState[s]);
        }

        _byName.RemoveUnseen();
    }

    /// <summary>Takes every libvirt_domain* series out of the exposition: libvirt did not answer, so nothing is known.</summary>
    public void Clear()
    {
        _byName.Clear();
        foreach (var state in StateNames)
        {
            _domains.WithLabels(state).Unpublish();
        }
    }

    private void Update(DomainSeries series, DomainSample d)
    {
        var own = series.Own;
        own.Gauge(0, _state, d.State);
        own.Gauge(1, _stateReason, d.StateReason);
        own.Counter(2, _cpuTime, d.CpuTimeNanoseconds / NanosecondsPerSecond);
        own.Counter(3, _cpuUser, d.CpuUserNanoseconds / NanosecondsPerSecond);
        own.Counter(4, _cpuSystem, d.CpuSystemNanoseconds / NanosecondsPerSecond);
        own.Gauge(5, _vcpus, d.VcpuCurrent);
        own.Gauge(6, _memoryMaximum, d.BalloonMaximumKibibytes * BytesPerKibibyte);
        own.Gauge(7, _memoryCurrent, d.BalloonCurrentKibibytes * BytesPerKibibyte);
        own.Gauge(8, _memoryRss, d.BalloonRssKibibytes * BytesPerKibibyte);

        if (!string.Equals(series.Uuid, d.Uuid, StringComparison.Ordinal))
        {
            series.Info?.Remove();
            series.Info = new Series([d.Name, d.Uuid], 1);
            series.Uuid = d.Uuid;
        }

        series.Info!.Gauge(0, _info, 1);

        series.Vcpus.Begin();
        foreach (var vcpu in d.Vcpus)
        {
            series.Vcpus.Get(vcpu.Index, d.Name, static (index, domain) => new Series([domain, index.ToString(CultureInfo.InvariantCulture)], 1))
                .Counter(0, _vcpuTime, vcpu.TimeNanoseconds / NanosecondsPerSecond);
        }

        series.Vcpus.RemoveUnseen();
        UpdateItems(series.Interfaces, d.Name, d.Interfaces, _interface, static n => n.Name, static (n, family) => family switch
        {
            0 => n.ReceiveBytes,
            1 => n.ReceivePackets,
            2 => n.ReceiveErrors,
            3 => n.ReceiveDrops,
            4 => n.TransmitBytes,
            5 => n.TransmitPackets,
            6 => n.TransmitErrors,
            _ => n.TransmitDrops,
        });
        UpdateItems(series.Blocks, d.Name, d.Blocks, _block, static b => b.Name, static (b, family) => family switch
        {
            0 => b.ReadRequests,
            1 => b.ReadBytes,
            2 => b.WriteRequests,
            _ => b.WriteBytes,
        });
    }

    /// <summary>The counters of a domain's interfaces or devices, one series per item over <paramref name="families"/>,
    /// family f's value from <paramref name="counter"/>(item, f).</summary>
    private static void UpdateItems<T>(
        SeriesTable<string, Series> table, string domain, IReadOnlyList<T> items, Counter[] families,
        Func<T, string> name, Func<T, int, double> counter)
    {
        table.Begin();
        foreach (var item in items)
        {
            var series = table.Get(name(item), (domain, families.Length), static (itemName, d) => new Series([d.domain, itemName], d.Length));
            for (var f = 0; f < families.Length; f++)
            {
                series.Counter(f, families[f], counter(item, f));
            }
        }

        table.RemoveUnseen();
    }

    /// <summary>Everything exported about one domain.</summary>
    private sealed class DomainSeries(string name) : ISeries
    {
        /// <summary>The families labelled with the domain alone, in the order <see cref="Update(DomainSeries, DomainSample)"/> numbers them.</summary>
        public Series Own { get; } = new([name], 9);

        public Series? Info { get; set; }

        public string? Uuid { get; set; }

        public SeriesTable<int, Series> Vcpus { get; } = new();

        public SeriesTable<string, Series> Interfaces { get; } = new();

        public SeriesTable<string, Series> Blocks { get; } = new();

        public int Generation { get; set; }

        public void Remove()
        {
            Own.Remove();
            Info?.Remove();
            Vcpus.Clear();
            Interfaces.Clear();
            Blocks.Clear();
        }
    }
}
