using System.Globalization;
using Loadshift.Exporter.Exposition;

namespace Loadshift.Exporter.Libvirt;

/// <summary>Turns domain samples into the libvirt_* families, one family at a time over all domains.</summary>
internal static class DomainMetrics
{
    private const double NanosecondsPerSecond = 1e9;
    private const double BytesPerKibibyte = 1024;

    /// <summary>virDomainState names, indexed by code (libvirt-domain.h).</summary>
    public static readonly string[] StateNames =
        ["nostate", "running", "blocked", "paused", "shutdown", "shutoff", "crashed", "pmsuspended"];

    public static void Write(MetricWriter w, IReadOnlyList<DomainSample> domains)
    {
        using var labels = new DomainLabels(domains);
        w.Family("libvirt_domains", MetricType.Gauge, "Domains defined on the host, by virDomainState name.");
        Span<int> perState = stackalloc int[StateNames.Length];
        perState.Clear();
        foreach (var d in domains)
        {
            if (d.State >= 0 && d.State < StateNames.Length)
            {
                perState[d.State]++;
            }
        }

        for (var s = 0; s < StateNames.Length; s++)
        {
            w.Sample("state", StateNames[s], perState[s]);
        }

        w.Family("libvirt_domain_info", MetricType.Gauge, "Always 1; the domain's name and UUID as labels.");
        foreach (var d in domains)
        {
            w.Sample("domain", d.Name, "uuid", d.Uuid, 1);
        }

        PerDomain(w, labels, "libvirt_domain_state", MetricType.Gauge,
            "virDomainState code: 0 no state, 1 running, 2 blocked, 3 paused, 4 shutting down, 5 shut off, " +
            "6 crashed, 7 suspended by guest power management.",
            d => d.State);
        PerDomain(w, labels, "libvirt_domain_state_reason", MetricType.Gauge,
            "Why the domain is in its state: the virDomain<State>Reason code of libvirt-domain.h for that state " +
            "(running: 1 booted, 2 migrated, 5 unpaused, 6 migration canceled; paused: 1 user, 2 migration; " +
            "shut off: 1 shutdown, 2 destroyed, 3 crashed, 4 migrated).",
            d => d.StateReason);

        PerDomain(w, labels, "libvirt_domain_cpu_time_seconds_total", MetricType.Counter,
            "CPU time used by the domain's QEMU process, all threads (bulk stats cpu.time); virt-top's %CPU is its rate.",
            d => d.CpuTimeNanoseconds / NanosecondsPerSecond);
        PerDomain(w, labels, "libvirt_domain_cpu_user_seconds_total", MetricType.Counter,
            "User-mode part of the domain's CPU time (bulk stats cpu.user).",
            d => d.CpuUserNanoseconds / NanosecondsPerSecond);
        PerDomain(w, labels, "libvirt_domain_cpu_system_seconds_total", MetricType.Counter,
            "Kernel-mode part of the domain's CPU time (bulk stats cpu.system).",
            d => d.CpuSystemNanoseconds / NanosecondsPerSecond);
        PerDomain(w, labels, "libvirt_domain_vcpus", MetricType.Gauge,
            "Virtual CPUs currently online in the domain (bulk stats vcpu.current).",
            d => d.VcpuCurrent);

        PerItem(w, labels, "libvirt_domain_vcpu_time_seconds_total",
            "CPU time of each virtual CPU's thread (bulk stats vcpu.<n>.time, in nanoseconds as measured against " +
            "cpu.time on a running domain, whatever the virsh manual says).",
            static d => d.Vcpus, static (l, d, i) => l.Vcpu(d, i), static v => v.TimeNanoseconds / NanosecondsPerSecond);

        PerDomain(w, labels, "libvirt_domain_memory_maximum_bytes", MetricType.Gauge,
            "Memory the domain may use at most (bulk stats balloon.maximum).",
            d => d.BalloonMaximumKibibytes * BytesPerKibibyte);
        PerDomain(w, labels, "libvirt_domain_memory_current_bytes", MetricType.Gauge,
            "Memory the balloon currently gives the domain (bulk stats balloon.current): an allocation, not usage.",
            d => d.BalloonCurrentKibibytes * BytesPerKibibyte);
        PerDomain(w, labels, "libvirt_domain_memory_rss_bytes", MetricType.Gauge,
            "Resident memory of the domain's QEMU process on the host (bulk stats balloon.rss): what it really takes.",
            d => d.BalloonRssKibibytes * BytesPerKibibyte);

        PerBlock(w, labels, "libvirt_domain_block_read_requests_total", "Read requests of the device (block.<n>.rd.reqs; virt-top's RDRQ).", b => b.ReadRequests);
        PerBlock(w, labels, "libvirt_domain_block_read_bytes_total", "Bytes read from the device (block.<n>.rd.bytes).", b => b.ReadBytes);
        PerBlock(w, labels, "libvirt_domain_block_write_requests_total", "Write requests of the device (block.<n>.wr.reqs; virt-top's WRRQ).", b => b.WriteRequests);
        PerBlock(w, labels, "libvirt_domain_block_write_bytes_total", "Bytes written to the device (block.<n>.wr.bytes).", b => b.WriteBytes);

        PerInterface(w, labels, "libvirt_domain_interface_receive_bytes_total", "Bytes received by the domain on the interface (net.<n>.rx.bytes; virt-top's RXBY).", n => n.ReceiveBytes);
        PerInterface(w, labels, "libvirt_domain_interface_receive_packets_total", "Packets received on the interface (net.<n>.rx.pkts).", n => n.ReceivePackets);
        PerInterface(w, labels, "libvirt_domain_interface_receive_errors_total", "Receive errors on the interface (net.<n>.rx.errs).", n => n.ReceiveErrors);
        PerInterface(w, labels, "libvirt_domain_interface_receive_drops_total", "Received packets dropped on the interface (net.<n>.rx.drop).", n => n.ReceiveDrops);
        PerInterface(w, labels, "libvirt_domain_interface_transmit_bytes_total", "Bytes sent by the domain on the interface (net.<n>.tx.bytes; virt-top's TXBY).", n => n.TransmitBytes);
        PerInterface(w, labels, "libvirt_domain_interface_transmit_packets_total", "Packets sent on the interface (net.<n>.tx.pkts).", n => n.TransmitPackets);
        PerInterface(w, labels, "libvirt_domain_interface_transmit_errors_total", "Transmit errors on the interface (net.<n>.tx.errs).", n => n.TransmitErrors);
        PerInterface(w, labels, "libvirt_domain_interface_transmit_drops_total", "Sent packets dropped on the interface (net.<n>.tx.drop).", n => n.TransmitDrops);
    }

    private static void PerDomain(MetricWriter w, DomainLabels labels, string name, MetricType type, string help, Func<DomainSample, double> value)
    {
        w.Family(name, type, help);
        for (var d = 0; d < labels.Domains.Count; d++)
        {
            var v = value(labels.Domains[d]);
            if (!double.IsNaN(v))
            {
                w.Sample(labels.Domain(d), v);
            }
        }
    }

    private static void PerBlock(MetricWriter w, DomainLabels labels, string name, string help, Func<BlockSample, double> value) =>
        PerItem(w, labels, name, help, static d => d.Blocks, static (l, d, i) => l.Device(d, i), value);

    private static void PerInterface(MetricWriter w, DomainLabels labels, string name, string help, Func<InterfaceSample, double> value) =>
        PerItem(w, labels, name, help, static d => d.Interfaces, static (l, d, i) => l.Interface(d, i), value);

    /// <summary>A counter family with one sample per vCPU, interface or device of each domain.</summary>
    private static void PerItem<T>(
        MetricWriter w, DomainLabels labels, string name, string help,
        Func<DomainSample, IReadOnlyList<T>> items, ItemLabel label, Func<T, double> value)
    {
        w.Family(name, MetricType.Counter, help);
        for (var d = 0; d < labels.Domains.Count; d++)
        {
            var list = items(labels.Domains[d]);
            for (var i = 0; i < list.Count; i++)
            {
                Sample(w, labels.Domain(d), label(labels, d, i), value(list[i]));
            }
        }
    }

    private delegate ReadOnlySpan<byte> ItemLabel(DomainLabels labels, int domain, int item);

    /// <summary>Absent values (NaN) are left out rather than exposed: a counter must not read NaN.</summary>
    private static void Sample(MetricWriter w, ReadOnlySpan<byte> labelPair1, ReadOnlySpan<byte> labelPair2, double value)
    {
        if (!double.IsNaN(value))
        {
            w.Sample(labelPair1, labelPair2, value);
        }
    }

    /// <summary>
    /// The label pairs of every domain's samples, encoded once per scrape rather than once per sample: for each
    /// domain its domain pair, then its vCPUs', its interfaces' and its devices', in that order.
    /// </summary>
    private sealed class DomainLabels : IDisposable
    {
        private readonly LabelPairs _pairs;
        private readonly int[] _first;

        public DomainLabels(IReadOnlyList<DomainSample> domains)
        {
            Domains = domains;
            _first = new int[domains.Count];
            _pairs = new LabelPairs(domains.Count * 5);
            for (var d = 0; d < domains.Count; d++)
            {
                var domain = domains[d];
                _first[d] = _pairs.Add("domain", domain.Name);
                for (var i = 0; i < domain.Vcpus.Count; i++)
                {
                    _pairs.Add("vcpu", domain.Vcpus[i].Index.ToString(CultureInfo.InvariantCulture));
                }

                for (var i = 0; i < domain.Interfaces.Count; i++)
                {
                    _pairs.Add("interface", domain.Interfaces[i].Name);
                }

                for (var i = 0; i < domain.Blocks.Count; i++)
                {
                    _pairs.Add("device", domain.Blocks[i].Name);
                }
            }
        }

        public IReadOnlyList<DomainSample> Domains { get; }

        public ReadOnlySpan<byte> Domain(int d) => _pairs[_first[d]];

        public ReadOnlySpan<byte> Vcpu(int d, int i) => _pairs[_first[d] + 1 + i];

        public ReadOnlySpan<byte> Interface(int d, int i) => _pairs[_first[d] + 1 + Domains[d].Vcpus.Count + i];

        public ReadOnlySpan<byte> Device(int d, int i) =>
            _pairs[_first[d] + 1 + Domains[d].Vcpus.Count + Domains[d].Interfaces.Count + i];

        public void Dispose() => _pairs.Dispose();
    }
}
