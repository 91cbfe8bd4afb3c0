using System.Runtime.InteropServices;
using System.Text.Json;
using Loadshift.Lab;
using Loadshift.Lab.Demo;

// loadshift-demo: the scenario half of lab/demo (which installs, builds, brings up the lab and starts Prometheus,
// Alertmanager, the blackbox exporter and the Rebalancer, then runs this). `run` plays and watches the scenario,
// `probe` is the HTTP prober that `run` starts inside the client namespace.
if (args.Length > 0 && args[0] == "probe")
{
    return await Prober.RunAsync(args[1..]);
}
if (args.Length == 0 || args[0] != "run")
{
    Console.Error.WriteLine(RunOptions.Usage);
    return 2;
}

RunOptions options;
try
{
    options = RunOptions.Parse(args[1..]);
}
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine($"loadshift-demo: {e.Message}");
    Console.Error.WriteLine(RunOptions.Usage);
    return 2;
}

Directory.CreateDirectory(options.OutDir);
var lab = LabState.Read(options.StateFile);
using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
var prometheus = new PrometheusApi(http, options.Prometheus);
var rebalancer = new RebalancerApi(http, options.Rebalancer, (await File.ReadAllTextAsync(options.TokenFile)).Trim());
using var scenario = new Scenario(options, lab, prometheus, rebalancer, new Libvirt(lab));

using var cancel = new CancellationTokenSource();
void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    cancel.Cancel();
}
using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

var completed = await scenario.RunAsync(cancel.Token);
var report = scenario.Report;
var timelineFile = Path.Combine(options.OutDir, "timeline.json");
await File.WriteAllTextAsync(timelineFile, JsonSerializer.Serialize(report, DemoJson.Indented));
var summary = Summary.Format(report);
await File.WriteAllTextAsync(Path.Combine(options.OutDir, "summary.md"), summary);
Console.WriteLine();
Console.WriteLine(summary);
Console.WriteLine($"timeline: {timelineFile}");
return completed ? 0 : 1;
