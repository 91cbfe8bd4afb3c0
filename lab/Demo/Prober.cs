using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Threading.Channels;

namespace Loadshift.Lab.Demo;

/// <summary>One probe: GET of a VM's page, sent at <see cref="SentAtMs"/> (unix ms).</summary>
internal sealed record ProbeResult(string Vm, long SentAtMs, bool Ok, double Ms, string? Error);

/// <summary><c>loadshift-demo probe</c>: GET of each VM's page every 100 ms (open loop: sent on schedule, not after
/// answers) for the whole demo, one JSON line per probe. lab/demo runs it inside the client namespace
/// (<c>ip netns exec</c>), so probes travel the lab's switch as a client's requests do. Ends on SIGTERM.</summary>
internal static class Prober
{
    public static async Task<int> RunAsync(string[] args)
    {
        string? state = null, outFile = null;
        var interval = TimeSpan.FromMilliseconds(100);
        var timeout = TimeSpan.FromSeconds(1);
        var maxDuration = TimeSpan.FromMinutes(40);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--state": state = args[i + 1]; break;
                case "--out": outFile = args[i + 1]; break;
                case "--interval-ms": interval = TimeSpan.FromMilliseconds(int.Parse(args[i + 1], CultureInfo.InvariantCulture)); break;
                case "--timeout-ms": timeout = TimeSpan.FromMilliseconds(int.Parse(args[i + 1], CultureInfo.InvariantCulture)); break;
                case "--max-seconds": maxDuration = TimeSpan.FromSeconds(int.Parse(args[i + 1], CultureInfo.InvariantCulture)); break;
                default:
                    await Console.Error.WriteLineAsync($"loadshift-demo probe: unknown option {args[i]}");
                    return 2;
            }
        }
        if (state is null || outFile is null)
        {
            await Console.Error.WriteLineAsync("usage: loadshift-demo probe --state lab.json --out probes.jsonl [--interval-ms 100] [--timeout-ms 1000]");
            return 2;
        }

        var vms = LabState.Read(state).Vms;
        using var stop = new CancellationTokenSource(maxDuration);
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }
        using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

        using var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            ConnectTimeout = timeout,
            // A fresh connection per probe would measure connection set-up; keep-alive measures the page.
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(5),
        };
        using var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        var results = Channel.CreateUnbounded<ProbeResult>();
        var writer = WriteAsync(outFile, results.Reader);
        var loops = vms.Select(vm => ProbeLoopAsync(client, vm, interval, timeout, results.Writer, stop.Token)).ToList();
        await Task.WhenAll(loops);
        results.Writer.Complete();
        await writer;
        return 0;
    }

    private static async Task ProbeLoopAsync(HttpClient client, LabVm vm, TimeSpan interval, TimeSpan timeout,
        ChannelWriter<ProbeResult> results, CancellationToken stop)
    {
        var inFlight = new List<Task>();
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                inFlight.RemoveAll(t => t.IsCompleted);
                inFlight.Add(ProbeOnceAsync(client, vm, timeout, results));
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped; the probes in flight finish within their timeout.
        }
        await Task.WhenAll(inFlight);
    }

    private static async Task ProbeOnceAsync(HttpClient client, LabVm vm, TimeSpan timeout, ChannelWriter<ProbeResult> results)
    {
        var sentAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var watch = Stopwatch.StartNew();
        using var deadline = new CancellationTokenSource(timeout);
        ProbeResult result;
        try
        {
            using var response = await client.GetAsync(new Uri(vm.Url), deadline.Token);
            await response.Content.ReadAsByteArrayAsync(deadline.Token);
            result = new ProbeResult(vm.Name, sentAt, response.IsSuccessStatusCode, Math.Round(watch.Elapsed.TotalMilliseconds, 1),
                response.IsSuccessStatusCode ? null : $"HTTP {(int)response.StatusCode}");
        }
        catch (OperationCanceledException)
        {
            result = new ProbeResult(vm.Name, sentAt, false, Math.Round(watch.Elapsed.TotalMilliseconds, 1), "timeout");
        }
        catch (HttpRequestException e)
        {
            result = new ProbeResult(vm.Name, sentAt, false, Math.Round(watch.Elapsed.TotalMilliseconds, 1), e.HttpRequestError.ToString());
        }
        await results.WriteAsync(result);
    }

    private static async Task WriteAsync(string path, ChannelReader<ProbeResult> results)
    {
        await using var file = new StreamWriter(path, append: false);
        var written = 0;
        await foreach (var result in results.ReadAllAsync())
        {
            await file.WriteLineAsync(JsonSerializer.Serialize(result, DemoJson.Options));
            if (++written % 30 == 0)
            {
                await file.FlushAsync();
            }
        }
    }

    public static IReadOnlyList<ProbeResult> Read(string path) =>
        File.Exists(path)
            ? [.. File.ReadLines(path).Where(l => l.Length > 0)
                .Select(l => JsonSerializer.Deserialize<ProbeResult>(l, DemoJson.Options)!)]
            : [];
}
