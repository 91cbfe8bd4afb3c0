using System.Globalization;
using System.Net;
using System.Text;
using System.Threading.Channels;

namespace Loadshift.Config.Tests;

/// <summary>A small HTTP server on 127.0.0.1 for the pipeline test: answers each request with a handler.</summary>
internal sealed class FakeHttpServer : IDisposable
{
    private readonly HttpListener listener = new();
    private readonly Func<HttpListenerRequest, string, (int Status, string Body)> handler;
    private readonly Task loop;

    public FakeHttpServer(Func<HttpListenerRequest, string, (int Status, string Body)> handler)
    {
        this.handler = handler;
        Port = Loopback.FreePort();
        listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        listener.Start();
        loop = Task.Run(ServeAsync);
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}";

    public void Dispose()
    {
        listener.Stop();
        listener.Close();
        try
        {
            loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The loop ends with the listener's exception once it is stopped.
        }
    }

    private async Task ServeAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var (status, answer) = handler(context.Request, body);
            var bytes = Encoding.UTF8.GetBytes(answer);
            context.Response.StatusCode = status;
            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
    }
}

/// <summary>
/// Stands in for one host's exporter: one CPU whose idle and user counters grow with the wall clock at the
/// current busy ratio, as the exporter's would.
/// </summary>
internal sealed class FakeExporter : IDisposable
{
    private readonly FakeHttpServer server;
    private readonly Lock gate = new();
    private DateTime last = DateTime.UtcNow;
    private double idle = 1000;
    private double user = 1000;
    private double busy;

    public FakeExporter(double busy)
    {
        this.busy = busy;
        server = new FakeHttpServer((request, _) => request.Url?.AbsolutePath == "/metrics" ? (200, Render()) : (404, "not found\n"));
    }

    public string Address => $"127.0.0.1:{server.Port}";

    public double Busy
    {
        set
        {
            lock (gate)
            {
                Advance();
                busy = value;
            }
        }
    }

    public void Dispose() => server.Dispose();

    private string Render()
    {
        lock (gate)
        {
            Advance();
            return string.Create(CultureInfo.InvariantCulture, $$"""
                # HELP hypervisor_cpu_seconds_total Seconds the CPUs spent in each mode.
                # TYPE hypervisor_cpu_seconds_total counter
                hypervisor_cpu_seconds_total{cpu="0",mode="idle"} {{idle}}
                hypervisor_cpu_seconds_total{cpu="0",mode="user"} {{user}}
                # HELP libvirt_up Whether libvirt answered.
                # TYPE libvirt_up gauge
                libvirt_up 1

                """);
        }
    }

    private void Advance()
    {
        var now = DateTime.UtcNow;
        var seconds = (now - last).TotalSeconds;
        last = now;
        idle += seconds * (1 - busy);
        user += seconds * busy;
    }
}

/// <summary>Stands in for the Rebalancer: records every webhook delivery; serves an empty /metrics.</summary>
internal sealed class FakeRebalancer : IDisposable
{
    private readonly FakeHttpServer server;
    private readonly Channel<(string? Authorization, string Body)> deliveries = Channel.CreateUnbounded<(string?, string)>();

    /// <param name="metrics">What /metrics serves besides the journal's error counter (e.g. a pending recommendation).</param>
    public FakeRebalancer(string metrics = "") =>
        server = new FakeHttpServer((request, body) =>
        {
            switch (request.HttpMethod, request.Url?.AbsolutePath)
            {
                case ("POST", "/api/v1/webhook"):
                    deliveries.Writer.TryWrite((request.Headers["Authorization"], body));
                    return (202, "");
                case ("GET", "/metrics"):
                    return (200, "# TYPE rebalancer_journal_errors_total counter\nrebalancer_journal_errors_total 0\n" + metrics);
                default:
                    return (404, "not found\n");
            }
        });

    public string Url => server.Url;

    /// <summary>Webhook deliveries received and not read yet.</summary>
    public int Pending => deliveries.Reader.Count;

    public async Task<(string? Authorization, string Body)> NextDeliveryAsync(TimeSpan timeout, Func<string> diagnostics)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            return await deliveries.Reader.ReadAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No webhook delivery within {timeout}.\n{diagnostics()}");
        }
    }

    public void Dispose() => server.Dispose();
}
