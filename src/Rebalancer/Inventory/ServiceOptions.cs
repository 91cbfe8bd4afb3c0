namespace Loadshift.Rebalancer.Inventory;

/// <summary>Where the snapshot's load figures come from; the inventory's <c>prometheus</c> section.</summary>
public sealed class PrometheusOptions
{
    public const string Section = "prometheus";

    public Uri Url { get; set; } = new("http://127.0.0.1:9090");

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>The Alertmanager receiver; the inventory's <c>webhook</c> section.</summary>
public sealed class WebhookOptions
{
    public const string Section = "webhook";

    /// <summary>File holding the bearer token (Alertmanager's <c>authorization.credentials_file</c> holds the same).</summary>
    public string TokenFile { get; set; } = "";

    /// <summary>Larger bodies get 413. Alertmanager's payload for one host group is a few KiB.</summary>
    public long MaxBodyBytes { get; set; } = 1024 * 1024;
}

/// <summary>The SQLite journal; the inventory's <c>journal</c> section.</summary>
public sealed class JournalOptions
{
    public const string Section = "journal";

    public string Path { get; set; } = "loadshift-journal.db";

    /// <summary>Webhook receipts (the raw notifications, the bulk of the file) older than this are deleted;
    /// alerts, decisions, migrations and home hosts are kept.</summary>
    public TimeSpan ReceiptRetention { get; set; } = TimeSpan.FromDays(30);
}

/// <summary>libvirt access; the inventory's <c>libvirt</c> section.</summary>
public sealed class LibvirtOptions
{
    public const string Section = "libvirt";

    public string VirshPath { get; set; } = "virsh";

    /// <summary>Deadline for the quick queries (list, domstate, domjobabort).</summary>
    public TimeSpan QueryTimeout { get; set; } = TimeSpan.FromSeconds(15);
}
