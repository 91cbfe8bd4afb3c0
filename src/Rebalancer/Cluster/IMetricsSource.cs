namespace Loadshift.Rebalancer.Cluster;

/// <summary>The load figures of the snapshot, as the recording rules and the exporter name them. The real
/// source asks Prometheus; tests swap in a fake here.</summary>
public interface IMetricsSource
{
    /// <param name="calmWindow">policy.returnHomeAfter: the window of <see cref="LoadMetrics.HostCalmWindowMaxBusy"/>.</param>
    Task<LoadMetrics> GetLoadAsync(TimeSpan calmWindow, CancellationToken cancellationToken);
}

/// <summary>Keyed by the <c>host</c> label (and <c>domain</c> for domain series).</summary>
/// <param name="HostBusy">host:hypervisor_cpu_busy:ratio_rate1m.</param>
/// <param name="HostCalmWindowMaxBusy">max_over_time of the busy ratio over the calm window.</param>
/// <param name="HostMemoryAvailable">hypervisor_memory_available_bytes.</param>
/// <param name="HostCpus">hypervisor_cpus.</param>
/// <param name="DomainCpuShare">host_domain:libvirt_domain_cpu:ratio_rate1m.</param>
/// <param name="DomainMemoryMaximum">libvirt_domain_memory_maximum_bytes.</param>
/// <param name="DomainMemoryCurrent">libvirt_domain_memory_current_bytes.</param>
/// <param name="HostMemoryUsed">host:hypervisor_memory_used:ratio (free's used/total; for the decision log line).</param>
/// <param name="HostMemoryTotal">hypervisor_memory_total_bytes (with the available bytes: the host's memory share).</param>
public sealed record LoadMetrics(
    IReadOnlyDictionary<string, double> HostBusy,
    IReadOnlyDictionary<string, double> HostCalmWindowMaxBusy,
    IReadOnlyDictionary<string, double> HostMemoryAvailable,
    IReadOnlyDictionary<string, double> HostCpus,
    IReadOnlyDictionary<(string Host, string Domain), double> DomainCpuShare,
    IReadOnlyDictionary<(string Host, string Domain), double> DomainMemoryMaximum,
    IReadOnlyDictionary<(string Host, string Domain), double> DomainMemoryCurrent,
    IReadOnlyDictionary<string, double> HostMemoryUsed,
    IReadOnlyDictionary<string, double>? HostMemoryTotal = null);

public sealed class MetricsUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
