using Prometheus;

namespace Loadshift.Exporter.Collectors;

/// <summary>
/// The series of one label set (a domain, one of its vCPUs, a CPU and mode) over one or more families, kept
/// between scrapes so that a scrape sets values without looking their labels up. An absent value (NaN: libvirt
/// left the key out) removes the series rather than exposing NaN. A counter whose source went back (a domain
/// restarted, or came home after a migration away) is removed and added again at its new value: prometheus-net's
/// counters only go up, and Prometheus' rate() reads the drop as the reset it is.
/// </summary>
internal sealed class Series(string[] labelValues, int families) : ISeries
{
    private readonly ChildBase?[] _children = new ChildBase?[families];

    public int Generation { get; set; }

    public void Gauge(int family, Gauge metric, double value)
    {
        if (double.IsNaN(value))
        {
            Remove(family);
            return;
        }

        var child = (Gauge.Child?)_children[family];
        if (child is null)
        {
            child = metric.WithLabels(labelValues);
            _children[family] = child;
        }

        child.Set(value);
    }

    public void Counter(int family, Counter metric, double value)
    {
        if (double.IsNaN(value))
        {
            Remove(family);
            return;
        }

        var child = (Counter.Child?)_children[family];
        if (child is not null && value < child.Value)
        {
            child.Remove();
            child = null;
        }

        if (child is null)
        {
            child = metric.WithLabels(labelValues);
            _children[family] = child;
        }

        child.IncTo(value);
    }

    /// <summary>Takes every series of this label set out of the exposition.</summary>
    public void Remove()
    {
        for (var family = 0; family < _children.Length; family++)
        {
            Remove(family);
        }
    }

    private void Remove(int family)
    {
        _children[family]?.Remove();
        _children[family] = null;
    }
}

/// <summary>What a <see cref="SeriesTable{TKey, TSeries}"/> keeps: series that can be taken out of the exposition.</summary>
internal interface ISeries
{
    /// <summary>The scrape that last set this, for <see cref="SeriesTable{TKey, TSeries}.RemoveUnseen"/>.</summary>
    int Generation { get; set; }

    void Remove();
}

/// <summary>The series of the things one scrape saw (domains, vCPUs, CPUs), by key; what a scrape did not see is
/// removed at its end, so a domain that is gone is gone from the next scrape.</summary>
internal sealed class SeriesTable<TKey, TSeries>
    where TKey : notnull
    where TSeries : class, ISeries
{
    private readonly Dictionary<TKey, TSeries> _series = [];
    private int _generation;

    /// <summary>Starts a scrape: every series is unseen until <see cref="Get"/> asks for it.</summary>
    public void Begin() => _generation++;

    /// <summary>The series of <paramref name="key"/>, marked seen; made by <paramref name="create"/> (called only
    /// then) if it is new.</summary>
    public TSeries Get<TState>(TKey key, TState state, Func<TKey, TState, TSeries> create)
    {
        if (!_series.TryGetValue(key, out var series))
        {
            series = create(key, state);
            _series.Add(key, series);
        }

        series.Generation = _generation;
        return series;
    }

    /// <summary>Ends a scrape: removes the series it did not see.</summary>
    public void RemoveUnseen()
    {
        List<TKey>? gone = null;
        foreach (var (key, series) in _series)
        {
            if (series.Generation != _generation)
            {
                series.Remove();
                (gone ??= []).Add(key);
            }
        }

        foreach (var key in gone ?? [])
        {
            _series.Remove(key);
        }
    }

    /// <summary>Removes every series, e.g. when libvirt did not answer.</summary>
    public void Clear()
    {
        foreach (var series in _series.Values)
        {
            series.Remove();
        }

        _series.Clear();
    }
}
