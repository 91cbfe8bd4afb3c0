using System.IO.Compression;
using Loadshift.Exporter;
using Loadshift.Exporter.Collectors;
using Loadshift.Exporter.Libvirt;
using Loadshift.Exporter.Scraping;
using Microsoft.AspNetCore.ResponseCompression;

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

// The exporter's own flags are parsed above; ASP.NET Core gets none of them.
var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(ExporterOptions.ParseListenAddress(options.ListenAddress)));
builder.Logging.AddSimpleConsole(console => console.SingleLine = true);
builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
builder.Services.AddSingleton(options);
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddCollectors(options);
builder.Services.AddResponseCompression(compression =>
{
    compression.MimeTypes = ["text/plain"];
    compression.Providers.Add<GzipCompressionProvider>();
});
builder.Services.Configure<GzipCompressionProviderOptions>(gzip => gzip.Level = CompressionLevel.Fastest);

var app = builder.Build();
app.UseResponseCompression();
app.MapMetrics(options);

var enabled = string.Join(",", ExporterOptions.CollectorNames.Where(c => !options.DisabledCollectors.Contains(c)));
Log.Started(app.Logger, Scraper.Version, options.ListenAddress, options.Procfs, options.LibvirtUri, enabled);
await app.RunAsync();
return 0;

/// <summary>The entry point, named so that tests can host it with WebApplicationFactory.</summary>
public partial class Program;
