using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;

namespace Loadshift.Exporter.Tests;

/// <summary>The built exporter as a real process behind real HTTP, as Prometheus sees it.</summary>
internal sealed class ExporterProcess : IAsyncDisposable
{
    private ExporterProcess(BackgroundProcess process, int port)
    {
        Process = process;
        Port = port;
    }

    public int Port { get; }

    public BackgroundProcess Process { get; }

    /// <summary>What it wrote to standard output and error so far.</summary>
    public string Output => Process.Output;

    public Uri MetricsUri => new($"http://127.0.0.1:{Port}/metrics");

    /// <summary>The published native executable, what the systemd unit and the lab run: lab/lib/publish puts it in
    /// lab/.cache/exporter (tests/run publishes it before the tests; here it is published only if it is missing or
    /// older than src/Exporter, which lab/lib/publish checks).</summary>
    public static string Executable => s_executable.Value;

    private static readonly Lazy<string> s_executable = new(() =>
    {
        var output = Path.Combine(RepositoryRoot.Path, "lab", ".cache", "exporter");
        var publish = Tool.Run(Path.Combine(RepositoryRoot.Path, "lab", "lib", "publish"),
            [Path.Combine(RepositoryRoot.Path, "src", "Exporter", "Exporter.csproj"), output], timeout: TimeSpan.FromMinutes(10));
        Assert.True(publish.ExitCode == 0, publish.ToString());
        return Path.Combine(output, "loadshift-exporter");
    });

    public static int FreePort() => Loopback.FreePort();

    public static async Task<ExporterProcess> StartAsync(params string[] args)
    {
        var port = FreePort();
        var exporter = new ExporterProcess(
            new BackgroundProcess(Executable, [$"--web.listen-address=127.0.0.1:{port}", .. args], AppContext.BaseDirectory), port);
        using var http = new HttpClient();
        for (var i = 0; i < 100; i++)
        {
            try
            {
                if ((await http.GetAsync(new Uri($"http://127.0.0.1:{port}/healthz"))).IsSuccessStatusCode)
                {
                    return exporter;
                }
            }
            catch (HttpRequestException)
            {
                await Task.Delay(100);
            }
        }

        await exporter.DisposeAsync();
        throw new InvalidOperationException("the exporter did not answer /healthz within 10 s");
    }

    public ValueTask DisposeAsync()
    {
        Process.Dispose();
        return ValueTask.CompletedTask;
    }
}

public class ExporterProcessTests
{
    [Fact]
    public async Task Live_metrics_carry_the_exact_content_type_and_pass_promtool()
    {
        await using var exporter = await ExporterProcess.StartAsync("--libvirt.uri=test:///default");
        using var http = new HttpClient();

        using var response = await http.GetAsync(exporter.MetricsUri);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Contains("\nlibvirt_up 1\n", text, StringComparison.Ordinal);
        Assert.Contains("libvirt_domain_info{domain=\"test\",uuid=", text, StringComparison.Ordinal);
        Assert.Contains("hypervisor_exporter_build_info{version=", text, StringComparison.Ordinal);
        await Tool.AssertPromtoolAcceptsMetricsAsync(text);
    }

    [Fact]
    public async Task Gzip_when_asked()
    {
        await using var exporter = await ExporterProcess.StartAsync("--libvirt.uri=test:///default");
        using var http = new HttpClient(new HttpClientHandler { AutomaticDecompression = DecompressionMethods.None });
        using var request = new HttpRequestMessage(HttpMethod.Get, exporter.MetricsUri);
        request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("gzip"));

        using var response = await http.SendAsync(request);
        await using var gzip = new GZipStream(await response.Content.ReadAsStreamAsync(), CompressionMode.Decompress);
        var text = await new StreamReader(gzip).ReadToEndAsync();

        Assert.Equal(["gzip"], response.Content.Headers.ContentEncoding);
        Assert.Contains("# TYPE hypervisor_cpu_seconds_total counter\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Libvirt_gone_still_serves_host_metrics_with_libvirt_up_0()
    {
        var closedPort = ExporterProcess.FreePort();
        await using var exporter = await ExporterProcess.StartAsync($"--libvirt.uri=qemu+tcp://127.0.0.1:{closedPort}/system");
        using var http = new HttpClient();

        var text = await http.GetStringAsync(exporter.MetricsUri);

        Assert.Contains("\nlibvirt_up 0\n", text, StringComparison.Ordinal);
        Assert.Contains("hypervisor_scrape_collector_success{collector=\"libvirt\"} 0\n", text, StringComparison.Ordinal);
        Assert.Contains("hypervisor_scrape_collector_success{collector=\"cpu\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("\nhypervisor_memory_total_bytes ", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_collector_switched_off_is_not_collected()
    {
        await using var exporter = await ExporterProcess.StartAsync("--no-collector.libvirt", "--no-collector.loadavg");
        using var http = new HttpClient();

        var text = await http.GetStringAsync(exporter.MetricsUri);

        Assert.DoesNotContain("libvirt_up", text, StringComparison.Ordinal);
        Assert.DoesNotContain("hypervisor_load1", text, StringComparison.Ordinal);
        Assert.DoesNotContain("collector=\"libvirt\"", text, StringComparison.Ordinal);
        Assert.Contains("hypervisor_cpus", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_flag_stops_the_program_with_a_message_naming_it()
    {
        var result = await Tool.RunAsync(ExporterProcess.Executable, ["--web.listen-adress=:1"]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("unknown flag --web.listen-adress=:1", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("usage: loadshift-exporter", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sigterm_stops_the_exporter_cleanly_as_systemd_asks()
    {
        await using var exporter = await ExporterProcess.StartAsync("--no-collector.libvirt");
        using var http = new HttpClient();
        Assert.Equal("ok\n", await http.GetStringAsync(new Uri($"http://127.0.0.1:{exporter.Port}/healthz")));

        await Tool.RunAsync("kill", ["-TERM", exporter.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.Equal(0, await exporter.Process.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("info: loadshift-exporter[2] stopping on SIGTERM", exporter.Output, StringComparison.Ordinal);
        Assert.Contains("info: loadshift-exporter[3] stopped", exporter.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_start_is_logged_as_before()
    {
        await using var exporter = await ExporterProcess.StartAsync("--no-collector.libvirt");

        Assert.StartsWith($"info: loadshift-exporter[1] loadshift-exporter {Scraping.Scraper.Version} listening on 127.0.0.1:{exporter.Port}; procfs /proc, libvirt qemu:///system, collectors cpu,meminfo,loadavg\n",
            exporter.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_port_in_use_stops_the_program_with_a_message_naming_it()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var result = await Tool.RunAsync(ExporterProcess.Executable, [$"--web.listen-address=127.0.0.1:{port}", "--no-collector.libvirt"]);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"loadshift-exporter: cannot listen on 127.0.0.1:{port}: the port is in use (another exporter, or another program, listens on it)\n", result.Stderr);
    }
}
