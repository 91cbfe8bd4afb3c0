using Loadshift.Rebalancer.Inventory;
using Microsoft.Extensions.Options;

namespace Loadshift.Rebalancer.Metrics;

internal static class MetricsEndpoints
{
    public static IServiceCollection AddRebalancerMetrics(this IServiceCollection services) =>
        services.AddSingleton<MetricsRegistry>().AddSingleton(provider => new RebalancerMetrics(
            provider.GetRequiredService<MetricsRegistry>(),
            provider.GetRequiredService<IOptions<InventoryOptions>>().Value,
            provider.GetRequiredService<IOptions<PolicyOptions>>().Value));

    public static IEndpointRouteBuilder MapMetrics(this IEndpointRouteBuilder app)
    {
        app.MapGet("/metrics", (RebalancerMetrics metrics) =>
            TypedResults.Text(metrics.Registry.Expose(), MetricsRegistry.ContentType)).ExcludeFromDescription();
        return app;
    }
}
