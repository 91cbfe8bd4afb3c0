using Loadshift.Rebalancer.Inventory;
using Microsoft.Extensions.Options;
using Prometheus;

namespace Loadshift.Rebalancer.Metrics;

internal static class MetricsEndpoints
{
    public static IServiceCollection AddRebalancerMetrics(this IServiceCollection services) =>
        services.AddSingleton(provider => new RebalancerMetrics(
            provider.GetRequiredService<IOptions<InventoryOptions>>().Value,
            provider.GetRequiredService<IOptions<PolicyOptions>>().Value));

    /// <summary>GET /metrics: the Rebalancer's registry through prometheus-net.AspNetCore (text format 0.0.4, or
    /// OpenMetrics when the scraper asks for it).</summary>
    public static IEndpointRouteBuilder MapRebalancerMetrics(this IEndpointRouteBuilder app)
    {
        app.MapMetrics(settings => settings.Registry = app.ServiceProvider.GetRequiredService<RebalancerMetrics>().Registry)
            .ExcludeFromDescription();
        return app;
    }
}
