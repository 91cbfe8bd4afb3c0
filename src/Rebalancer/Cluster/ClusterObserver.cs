using Loadshift.Rebalancer.Execution;
using Loadshift.Rebalancer.Inventory;
using Loadshift.Rebalancer.Journal;
using Loadshift.Rebalancer.Planning;
using Microsoft.Extensions.Options;

namespace Loadshift.Rebalancer.Cluster;

/// <summary>What libvirt said about one host.</summary>
public sealed record HostObservation(string Name, bool Reachable, string? Error, IReadOnlyList<string> Domains);

/// <summary>One look at the cluster: placement from libvirt (the truth), load from Prometheus, and what the
/// journal says about maintenance and home hosts.</summary>
public sealed record ClusterSnapshot(
    DateTimeOffset TakenAt,
    IReadOnlyList<HostObservation> Libvirt,
    LoadMetrics? Load,
    string? MetricsError,
    IReadOnlySet<string> Maintenance,
    IReadOnlyDictionary<string, string> Homes);

/// <summary>Takes snapshots and turns them into the planner's input.</summary>
public sealed class ClusterObserver(
    IHypervisor hypervisor,
    IMetricsSource metricsSource,
    SqliteJournal journal,
    IOptions<InventoryOptions> inventoryOptions,
    IOptions<PolicyOptions> policyOptions,
    TimeProvider time,
    ILogger<ClusterObserver> logger)
{
    private readonly InventoryOptions inventory = inventoryOptions.Value;
    private readonly PolicyOptions policy = policyOptions.Value;

    private bool ruleDomainsChecked;

    public ClusterSnapshot? Last { get; private set; }

    /// <summary>Asks every host's libvirt and Prometheus at once; records the home host of domains seen for the first time.</summary>
    public async Task<ClusterSnapshot> ObserveAsync(CancellationToken cancellationToken)
    {
        var takenAt = time.GetUtcNow();
        var libvirtTasks = inventory.Hosts.Select(h => ObserveHostAsync(h, cancellationToken)).ToList();
        LoadMetrics? load = null;
        string? metricsError = null;
        try
        {
            load = await metricsSource.GetLoadAsync(policy.ReturnHomeAfter, cancellationToken).ConfigureAwait(false);
        }
        catch (MetricsUnavailableException e)
        {
            metricsError = e.Message;
            Log.MetricsUnavailable(logger, e.Message);
        }
        var libvirt = await Task.WhenAll(libvirtTasks).ConfigureAwait(false);

        var configured = inventory.ConfiguredHomes();
        var known = await journal.GetHomesAsync(cancellationToken).ConfigureAwait(false);
        // A domain active on two hosts (in a migration) gets its home once libvirt shows it on one.
        var firstSeen = libvirt.Where(h => h.Reachable)
            .SelectMany(h => h.Domains.Select(d => (Domain: d, Host: h.Name)))
            .Where(p => !configured.ContainsKey(p.Domain) && !known.ContainsKey(p.Domain))
            .GroupBy(p => p.Domain, StringComparer.Ordinal)
            .Where(g => g.Count() == 1)
            .Select(g => g.Single())
            .ToList();
        if (firstSeen.Count > 0)
        {
            await journal.SetHomesAsync(firstSeen, "first_seen", overwrite: false, takenAt, cancellationToken).ConfigureAwait(false);
            foreach (var (domain, host) in firstSeen)
            {
                Log.HomeRecorded(logger, domain, host);
            }
        }
        var homes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (domain, record) in known)
        {
            homes[domain] = record.HomeHost;
        }
        foreach (var (domain, host) in firstSeen)
        {
            homes[domain] = host;
        }
        foreach (var (domain, host) in configured)
        {
            homes[domain] = host;
        }
        var maintenance = new HashSet<string>(await journal.GetMaintenanceAsync(cancellationToken).ConfigureAwait(false), StringComparer.Ordinal);
        foreach (var host in inventory.Hosts.Where(h => h.Maintenance))
        {
            maintenance.Add(host.Name);
        }
        if (!ruleDomainsChecked && libvirt.All(h => h.Reachable))
        {
            // Once, on the first complete look: a rule may name a domain not started yet (validation allows it).
            ruleDomainsChecked = true;
            var running = libvirt.SelectMany(h => h.Domains).ToHashSet(StringComparer.Ordinal);
            foreach (var domain in inventory.RuleDomains().Where(d => !running.Contains(d)))
            {
                Log.RuleDomainNotSeen(logger, domain);
            }
        }
        var snapshot = new ClusterSnapshot(takenAt, libvirt, load, metricsError, maintenance, homes);
        Last = snapshot;
        return snapshot;
    }

    private async Task<HostObservation> ObserveHostAsync(InventoryHost host, CancellationToken cancellationToken)
    {
        try
        {
            var domains = await hypervisor.ListRunningDomainsAsync(host, cancellationToken).ConfigureAwait(false);
            return new HostObservation(host.Name, true, null, domains);
        }
        catch (HypervisorUnavailableException e)
        {
            Log.HostUnreachable(logger, host.Name, e.Message);
            return new HostObservation(host.Name, false, e.Message, []);
        }
    }

    /// <summary>The planner's input from a snapshot. Capacities come from the inventory, load from Prometheus;
    /// <paramref name="settling"/>: hosts a domain arrived on within policy.settleTime (from the journal);
    /// <paramref name="recentMoves"/>: the journal's recent successful migrations (the no-flapping rules);
    /// <paramref name="migrationEnds"/>: per host, the end of the last migration from or to it within policy.settleTime.
    /// A domain that just moved may have no series on its new host yet: its share on the old host is converted
    /// by the capacity ratio.</summary>
    public static PlanningInput ToPlanningInput(
        ClusterSnapshot snapshot,
        InventoryOptions inventory,
        PolicyOptions policy,
        IReadOnlyDictionary<string, DomainHistory> history,
        IReadOnlyList<MigrationInFlight> inFlight,
        DateTimeOffset now,
        IReadOnlySet<string>? settling = null,
        IReadOnlyList<RecentMove>? recentMoves = null,
        IReadOnlyDictionary<string, DateTimeOffset>? migrationEnds = null)
    {
        var load = snapshot.Load;
        var reachable = snapshot.Libvirt.ToDictionary(h => h.Name, h => h.Reachable, StringComparer.Ordinal);
        var hosts = inventory.Hosts.Select(h => new HostView(
            h.Name,
            h.CpuCapacity,
            h.MemoryBytes,
            Lookup(load?.HostBusy, h.Name),
            Lookup(load?.HostCalmWindowMaxBusy, h.Name),
            Lookup(load?.HostMemoryAvailable, h.Name) is double available ? (long)available : null,
            snapshot.Maintenance.Contains(h.Name),
            reachable.GetValueOrDefault(h.Name),
            settling?.Contains(h.Name) == true,
            migrationEnds is not null && migrationEnds.TryGetValue(h.Name, out var ended) ? ended : null,
            Lookup(load?.HostMemoryTotal, h.Name) is double total ? (long)total : null)).ToList();
        var capacity = inventory.Hosts.ToDictionary(h => h.Name, h => h.CpuCapacity, StringComparer.Ordinal);

        // Shares reported anywhere, for domains that just moved: (host, share).
        var sharesByDomain = new Dictionary<string, (string Host, double Share)>(StringComparer.Ordinal);
        var memoryByDomain = new Dictionary<string, double>(StringComparer.Ordinal);
        // What a live migration copies: the guest's current memory (the balloon's size), where the Exporter has it.
        var currentByDomain = new Dictionary<string, double>(StringComparer.Ordinal);
        if (load is not null)
        {
            foreach (var ((host, domain), share) in load.DomainCpuShare)
            {
                sharesByDomain.TryAdd(domain, (host, share));
            }
            foreach (var ((_, domain), bytes) in load.DomainMemoryCurrent)
            {
                memoryByDomain[domain] = bytes;
                currentByDomain[domain] = bytes;
            }
            foreach (var ((_, domain), bytes) in load.DomainMemoryMaximum)
            {
                memoryByDomain[domain] = bytes;
            }
        }
        var pinned = new HashSet<string>(inventory.Pinned, StringComparer.Ordinal);
        // During a live migration the incoming domain shows (paused) on the target too; outside one, the same domain
        // active on two hosts needs an operator. Either way it counts on the first host and is marked, not moved.
        var seenOn = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var observation in snapshot.Libvirt.Where(h => h.Reachable))
        {
            foreach (var domain in observation.Domains)
            {
                if (!seenOn.TryGetValue(domain, out var on))
                {
                    seenOn[domain] = on = [];
                }
                on.Add(observation.Name);
            }
        }
        var domains = new List<DomainView>();
        foreach (var (domain, on) in seenOn)
        {
            var host = on[0];
            double share = 0;
            if (load is not null && load.DomainCpuShare.TryGetValue((host, domain), out var here))
            {
                share = here;
            }
            else if (sharesByDomain.TryGetValue(domain, out var elsewhere) && capacity.TryGetValue(elsewhere.Host, out var from)
                && capacity.TryGetValue(host, out var to))
            {
                share = elsewhere.Share * from / to;
            }
            domains.Add(new DomainView(domain, host, share, (long)memoryByDomain.GetValueOrDefault(domain),
                snapshot.Homes.GetValueOrDefault(domain), pinned.Contains(domain), on.Count > 1 ? on[1] : null,
                currentByDomain.TryGetValue(domain, out var current) ? (long)current : null));
        }
        return new PlanningInput(hosts, domains, history, inFlight, PlanningPolicy.From(policy), now, PlacementRules.From(inventory.Rules),
            recentMoves);
    }

    private static double? Lookup(IReadOnlyDictionary<string, double>? values, string key) =>
        values is not null && values.TryGetValue(key, out var value) ? value : null;
}
