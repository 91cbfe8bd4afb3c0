using System.Diagnostics;

namespace Loadshift.Lab.LoadGenerator;

/// <summary>The outcome of the requests sent to one VM.</summary>
internal sealed record TargetResult(
    string Vm,
    string Url,
    int Sent,
    int Succeeded,
    int Failed,
    int Skipped,
    int Slow,
    double ThroughputPerSecond,
    LatencySummary Latency,
    IReadOnlyDictionary<string, int> Errors);

/// <summary>Latency of the successful requests, in milliseconds (nearest-rank percentiles).</summary>
internal sealed record LatencySummary(double P50, double P95, double P99, double Max)
{
    public static LatencySummary Of(IReadOnlyList<double> milliseconds)
    {
        if (milliseconds.Count == 0)
        {
            return new LatencySummary(double.NaN, double.NaN, double.NaN, double.NaN);
        }
        var sorted = milliseconds.Order().ToArray();
        return new LatencySummary(Percentile(sorted, 50), Percentile(sorted, 95), Percentile(sorted, 99), sorted[^1]);
    }

    /// <summary>Nearest rank: the smallest value with at least p% of the values at or below it.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double p)
    {
        var rank = (int)Math.Ceiling(p / 100 * sorted.Count);
        return sorted[Math.Clamp(rank, 1, sorted.Count) - 1];
    }
}

/// <summary>
/// Open-loop load: request i to a VM is due at start + i / rate whether or not earlier ones were answered, so a
/// slow VM shows as latency and failures, not as a lower send rate. At most maxInFlight requests per VM are open;
/// one due beyond that is skipped (counted, never queued), which bounds the memory and sockets a run can take.
/// </summary>
internal sealed class LoadRun(Options options, HttpClient client, TimeProvider time)
{
    public async Task<IReadOnlyList<TargetResult>> RunAsync(IReadOnlyList<LabVm> vms, CancellationToken cancellationToken)
    {
        var runs = vms.Select(vm => RunTargetAsync(vm, cancellationToken)).ToArray();
        return await Task.WhenAll(runs).ConfigureAwait(false);
    }

    private async Task<TargetResult> RunTargetAsync(LabVm vm, CancellationToken cancellationToken)
    {
        var url = new Uri($"http://{vm.Address}{options.Path}");
        var latencies = new List<double>();
        var errors = new Dictionary<string, int>(StringComparer.Ordinal);
        var inFlight = new List<Task>();
        var gate = new Lock();
        int sent = 0, succeeded = 0, failed = 0, skipped = 0, slow = 0;
        var total = (int)Math.Floor(options.Duration.TotalSeconds * options.RatePerVm);
        var start = time.GetTimestamp();

        for (var i = 0; i < total && !cancellationToken.IsCancellationRequested; i++)
        {
            var due = TimeSpan.FromSeconds(i / options.RatePerVm);
            var wait = due - time.GetElapsedTime(start);
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            inFlight.RemoveAll(task => task.IsCompleted);
            if (inFlight.Count >= options.MaxInFlightPerVm)
            {
                skipped++;
                continue;
            }
            sent++;
            inFlight.Add(SendAsync());
        }
        await Task.WhenAll(inFlight).ConfigureAwait(false);
        // Over the run's whole length: requests still open at the end stretch it, an early stop shortens it.
        var elapsed = cancellationToken.IsCancellationRequested
            ? time.GetElapsedTime(start)
            : TimeSpan.FromTicks(Math.Max(time.GetElapsedTime(start).Ticks, options.Duration.Ticks));

        return new TargetResult(vm.Name, url.ToString(), sent, succeeded, failed, skipped, slow,
            elapsed > TimeSpan.Zero ? succeeded / elapsed.TotalSeconds : 0, LatencySummary.Of(latencies), errors);

        async Task SendAsync()
        {
            var begun = Stopwatch.GetTimestamp();
            string? error;
            using var timeout = new CancellationTokenSource(options.Timeout);
            try
            {
                using var response = await client.GetAsync(url, HttpCompletionOption.ResponseContentRead, timeout.Token)
                    .ConfigureAwait(false);
                error = response.IsSuccessStatusCode ? null : $"HTTP {(int)response.StatusCode}";
            }
            catch (OperationCanceledException)
            {
                error = "timeout";
            }
            catch (HttpRequestException e)
            {
                error = e.HttpRequestError.ToString();
            }
            var milliseconds = Stopwatch.GetElapsedTime(begun).TotalMilliseconds;
            lock (gate)
            {
                if (error is null)
                {
                    succeeded++;
                    latencies.Add(milliseconds);
                    if (milliseconds > options.Slow.TotalMilliseconds)
                    {
                        slow++;
                    }
                }
                else
                {
                    failed++;
                    errors[error] = errors.GetValueOrDefault(error) + 1;
                }
            }
        }
    }
}
