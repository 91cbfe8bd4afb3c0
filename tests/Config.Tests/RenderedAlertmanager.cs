namespace Loadshift.Config.Tests;

/// <summary>
/// The real Alertmanager on 127.0.0.1 with a configuration written by alertmanager/render: the webhook to a
/// stand-in Rebalancer, the token from a file, and second-long group timings.
/// </summary>
internal sealed class RenderedAlertmanager : IDisposable
{
    private readonly BackgroundProcess process;

    /// <param name="operatorsUrl">The people's receiver (render --operators-url); the committed default when null.</param>
    public RenderedAlertmanager(TempDirectory temp, string rebalancerUrl, string token, int? port = null, string? operatorsUrl = null)
    {
        Port = port ?? Loopback.FreePort();
        File.WriteAllText(temp.Combine("token"), token + "\n");
        Tool.RunOk(Path.Combine(Repository.Alertmanager, "render"),
        [
            temp.Combine("alertmanager"),
            "--webhook-url", $"{rebalancerUrl}/api/v1/webhook",
            "--credentials-file", temp.Combine("token"),
            "--group-wait", "1s", "--group-interval", "1s", "--repeat-interval", "1h",
            .. (operatorsUrl is null ? Array.Empty<string>() : ["--operators-url", operatorsUrl]),
        ]);
        process = new BackgroundProcess("prometheus-alertmanager",
        [
            $"--config.file={temp.Combine("alertmanager", "alertmanager.yml")}",
            $"--storage.path={temp.Combine("alertmanager-data")}",
            $"--web.listen-address=127.0.0.1:{Port}",
            "--cluster.listen-address=",
        ], temp.Path);
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}";

    public string Output => process.Output;

    public bool HasExited => process.HasExited;

    public void Dispose() => process.Dispose();
}
