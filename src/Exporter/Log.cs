namespace Loadshift.Exporter;

/// <summary>Every log line of the exporter, source-generated, with stable event ids.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information,
        Message = "loadshift-exporter {Version} listening on {Address}; procfs {Procfs}, libvirt {Uri}, collectors {Collectors}")]
    public static partial void Started(ILogger logger, string version, string address, string procfs, string uri, string collectors);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "stopping on {Signal}")]
    public static partial void Stopping(ILogger logger, string signal);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "stopped")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "libvirt at {Uri} gave no domain stats: {Reason}")]
    public static partial void LibvirtDown(ILogger logger, string uri, string reason);

    [LoggerMessage(EventId = 11, Level = LogLevel.Warning, Message = "collector {Collector} failed: {Reason}")]
    public static partial void CollectorFailed(ILogger logger, string collector, string reason);
}
