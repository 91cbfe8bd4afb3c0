namespace Loadshift.Lab.Demo;

/// <summary>The live timeline: each step printed with its time as soon as it is learned (sorted by when it
/// happened within one poll), and a progress line while the demo waits.</summary>
internal sealed class Timeline
{
    private readonly List<TimelineEvent> events = [];
    private readonly bool terminal = !Console.IsOutputRedirected;
    private DateTimeOffset lastProgress = DateTimeOffset.MinValue;
    private bool progressShown;

    public DateTimeOffset? Zero { get; set; }

    public IReadOnlyList<TimelineEvent> Events => events;

    public void Add(DateTimeOffset at, string kind, string text, string? domain = null, string? source = null, string? target = null)
    {
        var t = Zero is { } zero ? Math.Round((at - zero).TotalSeconds, 1) : 0;
        var e = new TimelineEvent(at, t, kind, text, domain, source, target);
        events.Add(e);
        ClearProgress();
        Console.WriteLine($"{at.ToLocalTime():HH:mm:ss} {(Zero is null ? "" : $"T{t,+7:+0.0;-0.0} s")}  {text}");
    }

    public void Note(string text)
    {
        ClearProgress();
        Console.WriteLine($"{DateTimeOffset.Now:HH:mm:ss}            {text}");
    }

    /// <summary>What the demo waits for; on a terminal one line rewritten in place, else a line every 15 s.</summary>
    public void Progress(string text)
    {
        var now = DateTimeOffset.UtcNow;
        if (terminal)
        {
            Console.Write($"\r\u001b[K  ... {text}");
            progressShown = true;
        }
        else if (now - lastProgress >= TimeSpan.FromSeconds(15))
        {
            Console.WriteLine($"{DateTimeOffset.Now:HH:mm:ss}              ... {text}");
            lastProgress = now;
        }
    }

    private void ClearProgress()
    {
        if (progressShown)
        {
            Console.Write("\r\u001b[K");
            progressShown = false;
        }
    }
}
