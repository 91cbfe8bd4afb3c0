namespace Loadshift.Exporter;

/// <summary>
/// The exporter's log: one line per event on standard output, as Microsoft.Extensions.Logging's simple console
/// formatter writes it with SingleLine ("info: Category[EventId] message"), which journald keeps as it is.
/// Written here rather than taken from Microsoft.Extensions.Logging.Console, which brings dependency injection,
/// options and configuration with it for these few lines; Information and above, as before.
/// </summary>
internal sealed class ConsoleLog(LogLevel minimum = LogLevel.Information) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, minimum);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("the exporter logs to standard output only");

    public void Dispose()
    {
    }

    private sealed class Logger(string category, LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var level = logLevel switch
            {
                LogLevel.Trace => "trce",
                LogLevel.Debug => "dbug",
                LogLevel.Information => "info",
                LogLevel.Warning => "warn",
                LogLevel.Error => "fail",
                _ => "crit",
            };
            var message = formatter(state, exception);
            var line = exception is null
                ? $"{level}: {category}[{eventId.Id}] {message}"
                : $"{level}: {category}[{eventId.Id}] {message} {exception.ToString().ReplaceLineEndings(" ")}";
            Console.Out.WriteLine(line);
        }
    }
}
