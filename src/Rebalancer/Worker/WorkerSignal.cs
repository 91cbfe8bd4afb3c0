using System.Threading.Channels;

namespace Loadshift.Rebalancer.Worker;

/// <summary>Wakes the worker early (a webhook arrived, a migration ended, a host was drained). Many wake-ups
/// before the worker looks collapse into one.</summary>
public sealed class WorkerSignal
{
    private readonly Channel<bool> channel = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public void Wake() => channel.Writer.TryWrite(true);

    internal async Task WaitAsync(CancellationToken cancellationToken)
    {
        await channel.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
    }
}
