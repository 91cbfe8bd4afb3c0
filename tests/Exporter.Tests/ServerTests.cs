using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Loadshift.Exporter.Collectors;
using Loadshift.Exporter.Scraping;
using Loadshift.Exporter.Web;
using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;
using ICollector = Loadshift.Exporter.Collectors.ICollector;

namespace Loadshift.Exporter.Tests;

/// <summary>
/// The exporter's web app (Kestrel, the limits, the endpoints, the scraper), in this process, over real sockets on
/// loopback. Only the limits are shortened (timeouts of seconds instead of tens) so that the tests of slow clients
/// are quick, and a collector may be a test's own, to hold a scrape open or to make a large one.
/// </summary>
internal sealed class RunningServer : IAsyncDisposable
{
    private RunningServer(WebApplication app)
    {
        App = app;
        Port = ExporterHost.Port(app);
    }

    public static ServerLimits ShortLimits { get; } = new()
    {
        HeaderTimeout = TimeSpan.FromSeconds(2),
        KeepAliveTimeout = TimeSpan.FromSeconds(4),
        StopTimeout = TimeSpan.FromSeconds(5),
    };

    public WebApplication App { get; }

    public int Port { get; }

    public Uri Uri(string path) => new($"http://127.0.0.1:{Port}{path}");

    public static async Task<RunningServer> StartAsync(ServerLimits? limits = null, params ITestCollector[] collectors)
    {
        var endpoint = new IPEndPoint(IPAddress.Loopback, 0);
        var app = ExporterHost.Build(new ExporterOptions(), (metrics, _) =>
        {
            ICollector[] all = [new LoadCollector(Fixtures.Path("procfs-2cpu"), metrics), .. collectors.Select(c => c.Define(metrics))];
            return new Scraper(all, metrics, NullLogger<Scraper>.Instance, TimeProvider.System);
        }, limits ?? ShortLimits, endpoint);
        await ExporterHost.StartAsync(app, endpoint);
        return new RunningServer(app);
    }

    public async Task<Socket> ConnectAsync()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, Port);
        return socket;
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync().WaitAsync(TimeSpan.FromSeconds(10));
        await App.DisposeAsync();
    }
}

/// <summary>A response as read off a socket, byte for byte, without HttpClient's help or forgiveness.</summary>
internal sealed record RawResponse(int Status, Dictionary<string, string> Headers, byte[] Body)
{
    public string Text => Encoding.UTF8.GetString(Body);

    public string? Header(string name) => Headers.GetValueOrDefault(name.ToUpperInvariant());

    /// <summary>Reads one response, with a Content-Length or chunked; a HEAD response has no body whatever its
    /// headers say. Null when the connection closed before a response began.</summary>
    public static async Task<RawResponse?> ReadAsync(Socket socket, bool head = false)
    {
        var headText = await ReadLineAsync(socket);
        if (headText is null)
        {
            return null;
        }

        var status = int.Parse(headText.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string>();
        for (var line = await ReadLineAsync(socket); line is { Length: > 0 }; line = await ReadLineAsync(socket))
        {
            var pair = line.Split(": ", 2);
            headers[pair[0].ToUpperInvariant()] = pair[1];
        }

        var body = new List<byte>();
        if (head)
        {
            return new RawResponse(status, headers, []);
        }

        if (headers.GetValueOrDefault("TRANSFER-ENCODING") == "chunked")
        {
            while (true)
            {
                var size = Convert.ToInt32((await ReadLineAsync(socket))!, 16);
                body.AddRange(await ReadExactlyAsync(socket, size));
                await ReadLineAsync(socket);
                if (size == 0)
                {
                    break;
                }
            }
        }
        else
        {
            body.AddRange(await ReadExactlyAsync(socket, int.Parse(headers.GetValueOrDefault("CONTENT-LENGTH", "0"), System.Globalization.CultureInfo.InvariantCulture)));
        }

        return new RawResponse(status, headers, [.. body]);
    }

    /// <summary>True when the server has closed the connection (read returns 0 or the connection was reset).</summary>
    public static async Task<bool> ClosedAsync(Socket socket, TimeSpan within)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            using var timeout = new CancellationTokenSource(within);
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token) > 0)
            {
            }

            return true;
        }
        catch (SocketException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static async Task<string?> ReadLineAsync(Socket socket)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (!(bytes.Count >= 2 && bytes[^2] == '\r' && bytes[^1] == '\n'))
        {
            int n;
            try
            {
                n = await socket.ReceiveAsync(one).WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (SocketException) when (bytes.Count == 0)
            {
                return null; // reset before anything came
            }

            if (n == 0)
            {
                return bytes.Count == 0 ? null : throw new IOException("the connection closed in the middle of a line");
            }

            bytes.Add(one[0]);
        }

        return Encoding.Latin1.GetString([.. bytes], 0, bytes.Count - 2);
    }

    private static async Task<byte[]> ReadExactlyAsync(Socket socket, int count)
    {
        var data = new byte[count];
        for (var read = 0; read < count;)
        {
            var n = await socket.ReceiveAsync(data.AsMemory(read)).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            read += n > 0 ? n : throw new IOException("the connection closed in the middle of a body");
        }

        return data;
    }
}

/// <summary>A test's own collector, which defines its families in the app's registry when the app is built.</summary>
internal interface ITestCollector
{
    ICollector Define(IMetricFactory metrics);
}

/// <summary>A collector that holds its scrape until released, and counts its collections.</summary>
internal sealed class HeldCollector : ICollector, ITestCollector
{
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Gauge? _held;
    private int _collections;

    public string Name => "held";

    public int Collections => _collections;

    public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TimeSpan? LastDeadline { get; private set; }

    public ICollector Define(IMetricFactory metrics)
    {
        _held = metrics.CreateGauge("test_held", "A test's collector.");
        return this;
    }

    public void Release() => _release.TrySetResult();

    public async Task<bool> CollectAsync(ScrapeContext context, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _collections);
        LastDeadline = context.Deadline;
        Started.TrySetResult();
        await _release.Task;
        _held!.Set(1);
        return true;
    }

    public void Withdraw() => _held!.Unpublish();
}

/// <summary>A collector that sets many series (some megabytes of exposition), for clients that leave in the middle.</summary>
internal sealed class LargeCollector(int series) : ICollector, ITestCollector
{
    public string Name => "large";

    public ICollector Define(IMetricFactory metrics)
    {
        var large = metrics.CreateGauge("test_large", "Many series.", ["domain"]);
        for (var i = 0; i < series; i++)
        {
            large.WithLabels($"domain-{i}-{Guid.NewGuid()}").Set(i);
        }

        return this;
    }

    public Task<bool> CollectAsync(ScrapeContext context, CancellationToken cancellationToken) => Task.FromResult(true);

    public void Withdraw()
    {
    }
}

public class EndpointTests
{
    [Fact]
    public async Task Metrics_in_the_text_format_with_its_content_type()
    {
        await using var server = await RunningServer.StartAsync();
        using var http = new HttpClient();

        using var response = await http.GetAsync(server.Uri("/metrics"));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Contains("\nhypervisor_load1 ", text, StringComparison.Ordinal);
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        await Tool.AssertPromtoolAcceptsMetricsAsync(text);
    }

    [Fact]
    public async Task OpenMetrics_when_the_scraper_asks_for_it()
    {
        await using var server = await RunningServer.StartAsync();
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, server.Uri("/metrics"));
        // What Prometheus 2.x sends when it may take OpenMetrics.
        request.Headers.TryAddWithoutValidation("Accept",
            "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1");

        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal("application/openmetrics-text; version=1.0.0; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Contains("# TYPE hypervisor_scrape_collector_success gauge\n", text, StringComparison.Ordinal);
        Assert.EndsWith("# EOF\n", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/healthz", "text/plain; charset=utf-8", "ok\n")]
    [InlineData("/healthz?probe=1", "text/plain; charset=utf-8", "ok\n")]
    [InlineData("/", "text/html; charset=utf-8", "<a href=\"/metrics\">")]
    public async Task Health_and_index(string path, string contentType, string body)
    {
        await using var server = await RunningServer.StartAsync();
        using var http = new HttpClient();

        using var response = await http.GetAsync(server.Uri(path));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(contentType, response.Content.Headers.ContentType?.ToString());
        Assert.Contains(body, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/metrics")]
    [InlineData("/healthz")]
    [InlineData("/")]
    public async Task Head_gets_the_head_of_get_without_a_body(string path)
    {
        await using var server = await RunningServer.StartAsync();
        using var socket = await server.ConnectAsync();

        await socket.SendAsync(Encoding.ASCII.GetBytes($"HEAD {path} HTTP/1.1\r\nHost: x\r\n\r\nGET {path} HTTP/1.1\r\nHost: x\r\n\r\n"));
        var head = await RawResponse.ReadAsync(socket, head: true);
        var get = await RawResponse.ReadAsync(socket);

        // The GET right behind the HEAD is read whole: no body came after the HEAD's head.
        Assert.Equal((200, 200), (head!.Status, get!.Status));
        Assert.Equal(get.Header("Content-Type"), head.Header("Content-Type"));
        Assert.NotEmpty(get.Body);
    }

    [Theory]
    [InlineData("GET", "/nope", 404)]
    [InlineData("GET", "/metrics/x", 404)]
    [InlineData("POST", "/nope", 404)]
    [InlineData("POST", "/metrics", 405)]
    [InlineData("PUT", "/healthz", 405)]
    [InlineData("DELETE", "/", 405)]
    public async Task Other_paths_404_other_methods_405(string method, string path, int status)
    {
        await using var server = await RunningServer.StartAsync();
        using var http = new HttpClient();

        using var response = await http.SendAsync(new HttpRequestMessage(new HttpMethod(method), server.Uri(path)));

        Assert.Equal(status, (int)response.StatusCode);
        if (status == 405)
        {
            Assert.Equal(["GET", "HEAD"], response.Content.Headers.Allow);
        }
    }

    [Fact]
    public async Task Gzip_when_the_client_accepts_it_and_not_otherwise()
    {
        await using var server = await RunningServer.StartAsync();
        using var http = new HttpClient(new HttpClientHandler { AutomaticDecompression = DecompressionMethods.None });

        using var gzipped = new HttpRequestMessage(HttpMethod.Get, server.Uri("/metrics"));
        gzipped.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("gzip"));
        using var gzipResponse = await http.SendAsync(gzipped);
        await using var gzip = new GZipStream(await gzipResponse.Content.ReadAsStreamAsync(), CompressionMode.Decompress);
        var text = await new StreamReader(gzip).ReadToEndAsync();

        using var refused = new HttpRequestMessage(HttpMethod.Get, server.Uri("/metrics"));
        refused.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip;q=0, identity");
        using var plainResponse = await http.SendAsync(refused);

        Assert.Equal(["gzip"], gzipResponse.Content.Headers.ContentEncoding);
        Assert.Contains("Accept-Encoding", gzipResponse.Headers.Vary);
        Assert.Contains("# TYPE hypervisor_load1 gauge\n", text, StringComparison.Ordinal);
        Assert.Empty(plainResponse.Content.Headers.ContentEncoding);
        Assert.Contains("# TYPE hypervisor_load1 gauge\n", await plainResponse.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, 5000)]
    [InlineData("10", 5000)] // Prometheus' default: 10 s, less 0.5 s, is later than --libvirt.timeout
    [InlineData("2", 1500)]
    [InlineData("2.5", 2000)]
    [InlineData("0.3", 5000)] // nothing left after the margin: the flag's
    [InlineData("soon", 5000)]
    public async Task The_scrape_timeout_header_shortens_the_deadline(string? header, int expectedMs)
    {
        var held = new HeldCollector();
        held.Release();
        await using var server = await RunningServer.StartAsync(collectors: held);
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, server.Uri("/metrics"));
        if (header is not null)
        {
            request.Headers.Add("X-Prometheus-Scrape-Timeout-Seconds", header);
        }

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), held.LastDeadline);
    }

    [Fact]
    public async Task Overlapping_scrapes_over_http_share_one_collection()
    {
        var held = new HeldCollector();
        await using var server = await RunningServer.StartAsync(collectors: held);
        using var http = new HttpClient();

        var first = http.GetStringAsync(server.Uri("/metrics"));
        await held.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var second = http.GetStringAsync(server.Uri("/metrics"));
        var third = http.GetStringAsync(server.Uri("/metrics"));
        await Task.Delay(300); // let both reach the scraper while the first collection is held
        held.Release();
        string[] bodies = await Task.WhenAll(first, second, third);

        Assert.Equal(1, held.Collections);
        Assert.All(bodies, b => Assert.Contains("test_held 1\n", b, StringComparison.Ordinal));
    }
}

public class ConnectionTests
{
    [Fact]
    public async Task A_connection_is_kept_alive_and_pipelined_requests_are_answered_in_order()
    {
        await using var server = await RunningServer.StartAsync();
        using var socket = await server.ConnectAsync();

        await socket.SendAsync("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        var first = await RawResponse.ReadAsync(socket);
        await socket.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        var second = await RawResponse.ReadAsync(socket);
        var third = await RawResponse.ReadAsync(socket);
        var fourth = await RawResponse.ReadAsync(socket);

        Assert.Equal((200, "ok\n"), (first!.Status, first.Text));
        Assert.Null(first.Header("Connection"));
        Assert.Contains("/metrics", second!.Text, StringComparison.Ordinal);
        Assert.Equal(404, third!.Status);
        Assert.Contains("hypervisor_load1", fourth!.Text, StringComparison.Ordinal);
        Assert.False(await RawResponse.ClosedAsync(socket, TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task Many_scrapes_on_one_connection_with_httpclient()
    {
        await using var server = await RunningServer.StartAsync();
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 });

        for (var i = 0; i < 20; i++)
        {
            Assert.Contains("hypervisor_load1", await http.GetStringAsync(server.Uri("/metrics")), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")]
    [InlineData("GET /healthz HTTP/1.0\r\n\r\n")]
    public async Task Close_when_asked_and_for_http_1_0(string request)
    {
        await using var server = await RunningServer.StartAsync();
        using var socket = await server.ConnectAsync();

        await socket.SendAsync(Encoding.ASCII.GetBytes(request));
        var response = await RawResponse.ReadAsync(socket);

        Assert.Equal(200, response!.Status);
        Assert.True(await RawResponse.ClosedAsync(socket, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Http_1_0_keeps_alive_when_asked()
    {
        await using var server = await RunningServer.StartAsync();
        using var socket = await server.ConnectAsync();

        await socket.SendAsync("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"u8.ToArray());

        Assert.Equal(200, (await RawResponse.ReadAsync(socket))!.Status);
        Assert.Equal(200, (await RawResponse.ReadAsync(socket))!.Status);
    }

    /// <summary>Kestrel's answers to malformed requests (README, "Limits"): 400, or 505 for an HTTP version it does
    /// not speak, then the connection closed; the server goes on answering others.</summary>
    [Theory]
    [InlineData("hello\r\n\r\n", 400)]
    [InlineData("GET /metrics\r\n\r\n", 400)] // HTTP/0.9
    [InlineData("GET  /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 400)]
    [InlineData("G(T /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 400)]
    [InlineData("GET /metrics HTTP/2.0\r\nHost: x\r\n\r\n", 505)]
    [InlineData("GET /metrics HTTP/1.1\r\n\r\n", 400)] // HTTP/1.1 without Host (RFC 9112 3.2)
    [InlineData("GET /metrics HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n", 400)]
    [InlineData("GET /metrics HTTP/1.1\r\nHost : x\r\n\r\n", 400)]
    [InlineData("GET /metrics HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400)]
    [InlineData("GET /metrics HTTP/1.1\r\nHost: a\u0000b\r\n\r\n", 400)]
    [InlineData("GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: lots\r\n\r\n", 400)]
    public async Task Garbage_is_answered_with_its_status_and_the_connection_closed(string request, int status)
    {
        await using var server = await RunningServer.StartAsync();
        using var socket = await server.ConnectAsync();

        await socket.SendAsync(Encoding.Latin1.GetBytes(request));
        var response = await RawResponse.ReadAsync(socket);

        Assert.Equal(status, response!.Status);
        Assert.Equal("close", response.Header("Connection"));
        Assert.True(await RawResponse.ClosedAsync(socket, TimeSpan.FromSeconds(5)));
        using var http = new HttpClient();
        Assert.Equal("ok\n", await http.GetStringAsync(server.Uri("/healthz")));
    }

    [Fact]
    public async Task A_tls_hello_is_refused_and_the_server_goes_on()
    {
        await using var server = await RunningServer.StartAsync();
        using var socket = await server.ConnectAsync();

        await socket.SendAsync("\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fc\u0003\u0003\r\n\r\n"u8.ToArray());

        Assert.True(await RawResponse.ClosedAsync(socket, TimeSpan.FromSeconds(5)));
        using var http = new HttpClient();
        Assert.Equal("ok\n", await http.GetStringAsync(server.Uri("/healthz")));
    }

    [Fact]
    public async Task Oversized_headers_get_431_and_an_oversized_request_line_414()
    {
        await using var server = await RunningServer.StartAsync();
        using var headers = await server.ConnectAsync();
        using var line = await server.ConnectAsync();

        var manyHeaders = string.Concat(Enumerable.Range(0, 400).Select(i => $"X-Filler-{i}: {new string('a', 60)}\r\n"));
        await headers.SendAsync(Encoding.ASCII.GetBytes($"GET /metrics HTTP/1.1\r\nHost: x\r\n{manyHeaders}\r\n"));
        await line.SendAsync(Encoding.ASCII.GetBytes($"GET /metrics?{new string('q', 9000)} HTTP/1.1\r\nHost: x\r\n\r\n"));

        Assert.Equal(431, (await RawResponse.ReadAsync(headers))!.Status);
        Assert.Equal(414, (await RawResponse.ReadAsync(line))!.Status);
        Assert.True(await RawResponse.ClosedAsync(headers, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Headers_up_to_the_limit_are_read()
    {
        await using var server = await RunningServer.StartAsync();
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, server.Uri("/healthz"));
        request.Headers.Add("X-Filler", new string('a', 12_000));

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_slow_client_gets_408_and_does_not_hold_up_other_scrapes()
    {
        var limits = RunningServer.ShortLimits with { HeaderTimeout = TimeSpan.FromSeconds(3) }; // room for a busy machine
        await using var server = await RunningServer.StartAsync(limits);
        using var slow = await server.ConnectAsync();
        using var http = new HttpClient();

        await slow.SendAsync("GET /metrics HTTP/1.1\r\nHo"u8.ToArray());
        var started = DateTime.UtcNow;
        for (var i = 0; i < 5; i++)
        {
            Assert.Contains("hypervisor_load1", await http.GetStringAsync(server.Uri("/metrics")), StringComparison.Ordinal);
        }

        var others = DateTime.UtcNow - started;
        await Task.Delay(200);
        await slow.SendAsync("s"u8.ToArray()); // one byte now and then does not reset the headers' timer
        var response = await RawResponse.ReadAsync(slow);

        Assert.True(others < limits.HeaderTimeout, $"the other scrapes took {others}");
        Assert.Equal(408, response!.Status);
        Assert.True(await RawResponse.ClosedAsync(slow, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task A_connection_that_sends_nothing_is_closed_after_a_timeout()
    {
        await using var server = await RunningServer.StartAsync();
        using var silent = await server.ConnectAsync();

        Assert.False(await RawResponse.ClosedAsync(silent, TimeSpan.FromMilliseconds(500)));
        Assert.True(await RawResponse.ClosedAsync(silent, TimeSpan.FromSeconds(7)));
    }

    [Fact]
    public async Task An_idle_kept_alive_connection_is_closed_after_the_keep_alive_timeout()
    {
        await using var server = await RunningServer.StartAsync();
        using var socket = await server.ConnectAsync();

        await socket.SendAsync("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        Assert.Equal(200, (await RawResponse.ReadAsync(socket))!.Status);

        Assert.False(await RawResponse.ClosedAsync(socket, TimeSpan.FromSeconds(2.5))); // past the header timeout: keep-alive is longer
        Assert.True(await RawResponse.ClosedAsync(socket, TimeSpan.FromSeconds(5)));
    }

    /// <summary>Kestrel closes a connection past the cap at once, unanswered (the own server answered 503).</summary>
    [Fact]
    public async Task Past_the_connection_limit_a_connection_is_closed_until_one_closes()
    {
        await using var server = await RunningServer.StartAsync(RunningServer.ShortLimits with { MaxConnections = 3, KeepAliveTimeout = TimeSpan.FromSeconds(30) });
        var open = new List<Socket>();
        for (var i = 0; i < 3; i++)
        {
            var socket = await server.ConnectAsync();
            await socket.SendAsync("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
            Assert.Equal(200, (await RawResponse.ReadAsync(socket))!.Status); // accepted and kept alive
            open.Add(socket);
        }

        using var extra = await server.ConnectAsync();
        await extra.SendAsync("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        var refused = await RawResponse.ReadAsync(extra);
        open[0].Dispose();
        await Task.Delay(300);
        using var http = new HttpClient();
        var after = await http.GetStringAsync(server.Uri("/healthz"));
        open.ForEach(s => s.Dispose());

        Assert.Null(refused);
        Assert.Equal("ok\n", after);
    }

    [Fact]
    public async Task A_client_that_leaves_in_the_middle_of_a_response_harms_no_one()
    {
        await using var server = await RunningServer.StartAsync(collectors: new LargeCollector(100_000));
        for (var i = 0; i < 5; i++)
        {
            using var socket = await server.ConnectAsync();
            socket.ReceiveBufferSize = 4096;
            await socket.SendAsync("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
            var some = new byte[1024];
            Assert.True(await socket.ReceiveAsync(some) > 0);
            socket.LingerState = new LingerOption(true, 0); // close with a reset, as a killed client does
        }

        using var http = new HttpClient();
        var text = await http.GetStringAsync(server.Uri("/metrics"));

        Assert.Contains("test_large{domain=\"domain-99999-", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_request_with_a_body_is_answered_and_the_connection_stays_usable()
    {
        await using var server = await RunningServer.StartAsync();
        using var socket = await server.ConnectAsync();

        await socket.SendAsync("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        var post = await RawResponse.ReadAsync(socket);
        var get = await RawResponse.ReadAsync(socket);

        Assert.Equal(405, post!.Status);
        Assert.Equal((200, "ok\n"), (get!.Status, get.Text));
    }

    [Fact]
    public async Task A_stop_lets_the_scrape_in_flight_finish_then_refuses_new_connections()
    {
        var held = new HeldCollector();
        var server = await RunningServer.StartAsync(collectors: held);
        await using (server)
        {
            using var idle = await server.ConnectAsync();
            await idle.SendAsync("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
            Assert.Equal(200, (await RawResponse.ReadAsync(idle))!.Status);
            using var busy = await server.ConnectAsync();
            await busy.SendAsync("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
            await held.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));

            var stop = server.App.StopAsync();
            Assert.True(await RawResponse.ClosedAsync(idle, TimeSpan.FromSeconds(3)));
            held.Release();
            var response = await RawResponse.ReadAsync(busy);
            await stop.WaitAsync(TimeSpan.FromSeconds(5));

            Assert.Equal(200, response!.Status);
            Assert.Contains("test_held 1\n", response.Text, StringComparison.Ordinal);
            await Assert.ThrowsAsync<SocketException>(async () => (await server.ConnectAsync()).Dispose());
        }
    }
}

public class ListenTests
{
    private static WebApplication Build(IPEndPoint endpoint) =>
        ExporterHost.Build(new ExporterOptions(), (metrics, _) => new Scraper([], metrics, NullLogger<Scraper>.Instance, TimeProvider.System),
            endpoint: endpoint);

    [Fact]
    public async Task Port_alone_listens_on_ipv4_and_ipv6()
    {
        var port = ExporterProcess.FreePort();
        var endpoint = ExporterOptions.ParseListenAddress($":{port}");
        await using var app = Build(endpoint);
        await ExporterHost.StartAsync(app, endpoint);
        using var http = new HttpClient();

        Assert.Equal("ok\n", await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/healthz")));
        if (Socket.OSSupportsIPv6)
        {
            Assert.Equal("ok\n", await http.GetStringAsync(new Uri($"http://[::1]:{port}/healthz")));
        }

        await app.StopAsync();
    }

    [Fact]
    public async Task A_bracketed_ipv6_address_listens_there()
    {
        if (!Socket.OSSupportsIPv6)
        {
            return; // no IPv6 on this host: nothing to listen on
        }

        var port = ExporterProcess.FreePort();
        var endpoint = ExporterOptions.ParseListenAddress($"[::1]:{port}");
        await using var app = Build(endpoint);
        await ExporterHost.StartAsync(app, endpoint);
        using var http = new HttpClient();

        Assert.Equal("ok\n", await http.GetStringAsync(new Uri($"http://[::1]:{port}/healthz")));
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/healthz")));
        await app.StopAsync();
    }

    [Fact]
    public async Task A_port_in_use_is_named_in_the_error()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var endpoint = new IPEndPoint(IPAddress.Loopback, ((IPEndPoint)taken.LocalEndpoint).Port);
        await using var app = Build(endpoint);

        var e = await Assert.ThrowsAsync<ListenException>(() => ExporterHost.StartAsync(app, endpoint));

        Assert.Equal($"cannot listen on {endpoint}: the port is in use (another exporter, or another program, listens on it)", e.Message);
    }

    [Fact]
    public async Task An_address_of_no_interface_is_named_in_the_error()
    {
        // 192.0.2.1 (TEST-NET-1, RFC 5737) is on no interface here; binding it sends nothing anywhere.
        var endpoint = new IPEndPoint(IPAddress.Parse("192.0.2.1"), 10179);
        await using var app = Build(endpoint);

        var e = await Assert.ThrowsAsync<ListenException>(() => ExporterHost.StartAsync(app, endpoint));

        Assert.Contains("no interface of this host has that address", e.Message, StringComparison.Ordinal);
    }
}
