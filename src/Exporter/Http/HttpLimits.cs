namespace Loadshift.Exporter.Http;

/// <summary>What the server allows one client, so that no client (slow, broken or hostile) can hold up the scrapes of
/// another or grow the process.</summary>
internal sealed record HttpLimits
{
    /// <summary>8 KiB, Kestrel's and nginx's limit on a request line; a longer one is answered 414.</summary>
    public int MaxRequestLineBytes { get; init; } = 8 * 1024;

    /// <summary>16 KiB for the request line and headers together (Prometheus sends about 300 bytes); past it, 431.
    /// It is also the read buffer each open connection holds.</summary>
    public int MaxHeadBytes { get; init; } = 16 * 1024;

    /// <summary>How long a request's line and headers may take to arrive, from its first byte (or from the
    /// connection, for its first request). Prometheus sends them in one packet; a slowloris client is cut off
    /// after this and never holds more than its own connection.</summary>
    public TimeSpan HeadTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a kept-alive connection may wait for its next request: above Prometheus' usual scrape
    /// intervals (15 s to 1 m), so that each scrape reuses its connection; Kestrel's default.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(130);

    /// <summary>How long sending one response may take before the client is taken for gone.</summary>
    public TimeSpan SendTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Open connections at most; more are answered 503 and closed. A few Prometheus servers and
    /// people with curl need a handful; node_exporter's --web.max-requests is 40.</summary>
    public int MaxConnections { get; init; } = 64;

    /// <summary>How long a stop (SIGTERM) waits for the requests being answered; under systemd's TimeoutStopSec.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(5);
}
