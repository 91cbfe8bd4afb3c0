using System.Runtime.InteropServices;
using Loadshift.Exporter;
using Loadshift.Exporter.Collectors;
using Loadshift.Exporter.Http;
using Loadshift.Exporter.Scraping;

ExporterOptions options;
try
{
    options = ExporterOptions.Parse(args);
}
catch (ArgumentException e)
{
    await Console.Error.WriteLineAsync($"loadshift-exporter: {e.Message}\n\n{ExporterOptions.Usage}");
    return 2;
}

if (options.ShowHelp)
{
    Console.WriteLine(ExporterOptions.Usage);
    return 0;
}

if (options.ShowVersion)
{
    Console.WriteLine($"loadshift-exporter {Scraper.Version}");
    return 0;
}

using var logs = new ConsoleLog();
var logger = logs.CreateLogger("loadshift-exporter");
var scraper = CollectorRegistration.CreateScraper(options, logs, TimeProvider.System, out var libvirt);
using var libvirtConnection = libvirt;
var endpoints = new MetricsEndpoints(scraper, options);

HttpServer server;
try
{
    server = HttpServer.Listen(ExporterOptions.ParseListenAddress(options.ListenAddress), new HttpLimits(), endpoints.HandleAsync, logger);
}
catch (ListenException e)
{
    await Console.Error.WriteLineAsync($"loadshift-exporter: {e.Message}");
    return 1;
}

using var stopping = new CancellationTokenSource();
void Stop(PosixSignalContext signal)
{
    signal.Cancel = true; // stop here, below, rather than have the runtime end the process
    Log.Stopping(logger, signal.Signal == PosixSignal.SIGTERM ? "SIGTERM" : "SIGINT");
    stopping.Cancel();
}

// SIGTERM from systemd, SIGINT from a terminal.
using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);

var enabled = string.Join(",", ExporterOptions.CollectorNames.Where(c => !options.DisabledCollectors.Contains(c)));
Log.Started(logger, Scraper.Version, options.ListenAddress, options.Procfs, options.LibvirtUri, enabled);
using (server)
{
    await server.RunAsync(stopping.Token);
}

Log.Stopped(logger);
return 0;
