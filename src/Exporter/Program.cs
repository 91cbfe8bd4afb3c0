using System.Runtime.InteropServices;
using Loadshift.Exporter;
using Loadshift.Exporter.Collectors;
using Loadshift.Exporter.Scraping;
using Loadshift.Exporter.Web;

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

IDisposable? libvirt = null;
await using var app = ExporterHost.Build(options,
    (metrics, logs) => CollectorRegistration.CreateScraper(options, metrics, logs, TimeProvider.System, out libvirt));
using var libvirtConnection = libvirt;
var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("loadshift-exporter");

void Stop(PosixSignalContext signal)
{
    signal.Cancel = true; // the host stops, below, rather than the runtime ending the process
    Log.Stopping(logger, signal.Signal == PosixSignal.SIGTERM ? "SIGTERM" : "SIGINT");
    app.Lifetime.StopApplication();
}

// SIGTERM from systemd, SIGINT from a terminal.
using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);

try
{
    await ExporterHost.StartAsync(app, ExporterOptions.ParseListenAddress(options.ListenAddress));
}
catch (ListenException e)
{
    await Console.Error.WriteLineAsync($"loadshift-exporter: {e.Message}");
    return 1;
}

var enabled = string.Join(",", ExporterOptions.CollectorNames.Where(c => !options.DisabledCollectors.Contains(c)));
Log.Started(logger, Scraper.Version, options.ListenAddress, options.Procfs, options.LibvirtUri, enabled);
await app.WaitForShutdownAsync();
Log.Stopped(logger);
return 0;
