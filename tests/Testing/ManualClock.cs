namespace Loadshift.Testing;

/// <summary>A clock the test moves: both the wall clock and the timestamps that elapsed times are measured with
/// (<see cref="TimeProvider.GetTimestamp"/>, which the base class takes from the machine's own clock).</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public ManualClock()
        : this(new DateTimeOffset(2026, 12, 7, 7, 0, 0, TimeSpan.Zero))
    {
    }

    public override DateTimeOffset GetUtcNow() => _now;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => _now.UtcTicks;

    public void Advance(TimeSpan by) => _now += by;
}
