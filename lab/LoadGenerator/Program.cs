using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Loadshift.Lab;
using Loadshift.Lab.LoadGenerator;

// lab/load's engine: HTTP load at the lab's VMs, run by lab/load inside the client namespace.
Options options;
IReadOnlyList<LabVm> targets;
try
{
    options = Options.Parse(args);
    targets = Targets.Read(options.StateFile, options.Vms);
}
catch (UsageException e)
{
    if (e.Problem is null)
    {
        Console.WriteLine(Options.Usage);
        return 0;
    }
    Console.Error.WriteLine($"lab/load: {e.Problem}");
    Console.Error.WriteLine(Options.Usage);
    return 2;
}

// SIGINT (Ctrl+C) or SIGTERM ends the run early; what was measured until then is still reported. lab/migrate
// stops its prober with SIGTERM, since a background job of a script has SIGINT ignored.
using var cancel = new CancellationTokenSource();
void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    cancel.Cancel();
}
using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

using var handler = new SocketsHttpHandler
{
    MaxConnectionsPerServer = options.MaxInFlightPerVm,
    UseProxy = false,
    ConnectTimeout = options.Timeout,
};
using var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
var started = DateTimeOffset.UtcNow;
var results = await new LoadRun(options, client, TimeProvider.System).RunAsync(targets, cancel.Token);
var finished = DateTimeOffset.UtcNow;

if (options.Json)
{
    var report = new
    {
        started,
        finished,
        path = options.Path,
        ratePerVm = options.RatePerVm,
        durationSeconds = options.Duration.TotalSeconds,
        timeoutSeconds = options.Timeout.TotalSeconds,
        slowSeconds = options.Slow.TotalSeconds,
        targets = results.Select(r => new
        {
            vm = r.Vm,
            url = r.Url,
            sent = r.Sent,
            succeeded = r.Succeeded,
            failed = r.Failed,
            skipped = r.Skipped,
            slow = r.Slow,
            throughputPerSecond = Math.Round(r.ThroughputPerSecond, 3),
            latencyMs = new { p50 = Round(r.Latency.P50), p95 = Round(r.Latency.P95), p99 = Round(r.Latency.P99), max = Round(r.Latency.Max) },
            errors = r.Errors,
        }),
    };
    Console.WriteLine(JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
}
else
{
    var c = CultureInfo.InvariantCulture;
    Console.WriteLine(string.Create(c,
        $"{options.Path} at {options.RatePerVm} req/s per VM for {options.Duration.TotalSeconds} s (timeout {options.Timeout.TotalSeconds} s, slow above {options.Slow.TotalMilliseconds} ms)"));
    Console.WriteLine($"{"vm",-6} {"sent",6} {"ok",6} {"failed",6} {"skipped",7} {"slow",5} {"ok/s",7} {"p50 ms",8} {"p95 ms",8} {"p99 ms",8} {"max ms",8}  errors");
    foreach (var r in results)
    {
        var errors = string.Join(", ", r.Errors.Select(e => $"{e.Key} x{e.Value}"));
        Console.WriteLine(string.Create(c,
            $"{r.Vm,-6} {r.Sent,6} {r.Succeeded,6} {r.Failed,6} {r.Skipped,7} {r.Slow,5} {r.ThroughputPerSecond,7:F2} {r.Latency.P50,8:F1} {r.Latency.P95,8:F1} {r.Latency.P99,8:F1} {r.Latency.Max,8:F1}  {errors}"));
    }
}
// Failed requests are a result to report (an overloaded host is what the lab is for), not an error of this program.
return 0;

static double? Round(double value) => double.IsNaN(value) ? null : Math.Round(value, 1);
