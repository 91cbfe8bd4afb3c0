namespace Loadshift.Exporter.Web;

/// <summary>What Kestrel allows one client, so that no client (slow, broken or hostile) can hold up the scrapes of
/// another or grow the process. Each maps onto one of Kestrel's options (<see cref="ExporterHost"/>).</summary>
internal sealed record ServerLimits
{
    /// <summary>8 KiB, Kestrel's and nginx's limit on a request line; a longer one is answered 414.</summary>
    public int MaxRequestLineBytes { get; init; } = 8 * 1024;

    /// <summary>16 KiB for the headers together (Prometheus sends about 300 bytes; Kestrel's default is 32 KiB);
    /// past it, 431.</summary>
    public int MaxHeaderBytes { get; init; } = 16 * 1024;

    /// <summary>How long a request's line and headers may take to arrive. Prometheus sends them in one packet; a
    /// slowloris client gets 408 after this and never holds more than its own connection.</summary>
    public TimeSpan HeaderTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a kept-alive connection may wait for its next request: above Prometheus' usual scrape
    /// intervals (15 s to 1 m), so that each scrape reuses its connection; Kestrel's default.</summary>
    public TimeSpan KeepAliveTimeout { get; init; } = TimeSpan.FromSeconds(130);

    /// <summary>Open connections at most; Kestrel closes any beyond them at once, unanswered. A few Prometheus
    /// servers and people with curl need a handful; node_exporter's --web.max-requests is 40.</summary>
    public int MaxConnections { get; init; } = 64;

    /// <summary>How long a stop (SIGTERM) waits for the requests being answered; under systemd's TimeoutStopSec.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(5);
}
