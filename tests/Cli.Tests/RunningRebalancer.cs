using Loadshift.Rebalancer.Tests.Support;
using Loadshift.Testing;

namespace Loadshift.Cli.Tests;

/// <summary>The real Rebalancer on a real socket (Kestrel on a free loopback port) with libvirt and Prometheus swapped
/// (<see cref="RebalancerFactory"/>), for loadshift to talk to over HTTP.</summary>
public sealed class RunningRebalancer : IDisposable
{
    public RunningRebalancer(Action<RebalancerFactory>? configure = null)
    {
        configure?.Invoke(Factory);
        Port = Loopback.FreePort();
        Factory.UseKestrel(Port);
        Factory.StartServer();
    }

    public RebalancerFactory Factory { get; } = new();

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}";

    /// <summary>The environment that points loadshift at this Rebalancer with its token.</summary>
    public IReadOnlyDictionary<string, string?> Environment => new Dictionary<string, string?>
    {
        ["LOADSHIFT_URL"] = Url,
        ["LOADSHIFT_TOKEN"] = RebalancerFactory.Token,
    };

    public Task<ToolResult> RunAsync(params string[] arguments) => Loadshift.RunAsync(arguments, Environment);

    public void Dispose() => Factory.Dispose();
}
