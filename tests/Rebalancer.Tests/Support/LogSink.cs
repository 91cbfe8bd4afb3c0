using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Loadshift.Rebalancer.Tests.Support;

/// <summary>Keeps every log line with its level and event id, in addition to the service's own logging.</summary>
public sealed class LogSink : ILoggerProvider
{
    private readonly ConcurrentQueue<(LogLevel Level, int EventId, string Message)> lines = new();

    public IReadOnlyList<(LogLevel Level, int EventId, string Message)> Lines => [.. lines];

    public ILogger CreateLogger(string categoryName) => new Logger(lines);

    public void Dispose()
    {
    }

    private sealed class Logger(ConcurrentQueue<(LogLevel, int, string)> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue((logLevel, eventId.Id, formatter(state, exception)));
    }
}
