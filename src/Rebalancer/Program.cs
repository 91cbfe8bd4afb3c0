using Loadshift.Rebalancer;
using Loadshift.Rebalancer.Metrics;

// loadshift-rebalancer --config <inventory.yaml> [--dry-run]
// Alertmanager -> POST /api/v1/webhook -> journal -> worker -> planner -> virsh migrate --live.
var arguments = StartupArguments.Parse(args);
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

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.MapHealth();
app.MapMetrics();
app.MapApiV1();

app.Run();
