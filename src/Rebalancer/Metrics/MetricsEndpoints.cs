namespace Loadshift.Rebalancer.Metrics;

internal static class MetricsEndpoints
{
    public static IServiceCollection AddRebalancerMetrics(this IServiceCollection services) =>
        services.AddSingleton<MetricsRegistry>().AddSingleton<RebalancerMetrics>();

    public static IEndpointRouteBuilder MapMetrics(this IEndpointRouteBuilder app)
    {
        app.MapGet("/metrics", (RebalancerMetrics metrics) =>
            TypedResults.Text(metrics.Registry.Expose(), MetricsRegistry.ContentType)).ExcludeFromDescription();
        return app;
    }
}
