using Loadshift.Rebalancer;
using Loadshift.Rebalancer.Metrics;
using Microsoft.Extensions.Options;

// loadshift-rebalancer --config <inventory.yaml> [--dry-run] (--help for the rest)
// Alertmanager -> POST /api/v1/webhook -> journal -> worker -> planner -> virsh migrate --live.
if (StartupArguments.TryParse(args, out var arguments, out var usage) is false)
{
    Console.Error.WriteLine(usage);
    return 2;
}
if (arguments.Help)
{
    Console.WriteLine(StartupArguments.Usage);
    return 0;
}

WebApplication? app = null;
try
{
    var builder = WebApplication.CreateBuilder(arguments.Rest);

    builder.AddInventoryFile(arguments);
    builder.AddRebalancerLogging();
    builder.Services.AddSingleton(TimeProvider.System);
    builder.Services.AddProblemDetails();
    builder.Services.AddJsonConventions();
    builder.Services.AddRebalancerMetrics();
    builder.Services.AddJournal();
    builder.Services.AddLibvirt();
    builder.Services.AddPrometheusSource();
    builder.Services.AddWebhook();
    builder.Services.AddRebalanceWorker();

    app = builder.Build();
    app.ValidateConfiguration();

    app.UseWebhookRequestCounting();
    app.UseExceptionHandler();
    app.UseStatusCodePages();
    app.MapHealth();
    app.MapRebalancerMetrics();
    app.MapApiV1();

    app.Run();
    return 0;
}
catch (Exception e) when (e is OptionsValidationException or InvalidDataException && !app.IsTestServer())
{
    // Bad configuration: say which keys, without a stack trace.
    var errors = e is OptionsValidationException validation ? validation.Failures : [e.Message];
    Console.Error.WriteLine($"loadshift-rebalancer: configuration error:{Environment.NewLine}  {string.Join(Environment.NewLine + "  ", errors)}");
    return 1;
}
