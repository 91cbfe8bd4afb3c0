using Microsoft.Extensions.Options;

namespace Loadshift.Rebalancer.Inventory;

internal static class InventoryServiceCollectionExtensions
{
    /// <summary>Binds every options class from its inventory section and validates it at start, so bad
    /// configuration stops the service with messages that name the keys.</summary>
    public static IHostApplicationBuilder AddInventory(this IHostApplicationBuilder builder, string? inventoryDirectory)
    {
        DurationConverter.Register();
        var services = builder.Services;
        // Paths in the inventory are relative to its folder, so an inventory next to its token file works from anywhere.
        string Resolve(string path) =>
            inventoryDirectory is null || path.Length == 0 || Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(inventoryDirectory, path));
        services.PostConfigure<WebhookOptions>(o => o.TokenFile = Resolve(o.TokenFile));
        services.PostConfigure<JournalOptions>(o => o.Path = Resolve(o.Path));
        services.AddOptions<InventoryOptions>().Bind(builder.Configuration).ValidateOnStart();
        services.AddOptions<PolicyOptions>().BindConfiguration(PolicyOptions.Section).ValidateOnStart();
        services.AddOptions<PrometheusOptions>().BindConfiguration(PrometheusOptions.Section).ValidateOnStart();
        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section).ValidateOnStart();
        services.AddOptions<JournalOptions>().BindConfiguration(JournalOptions.Section).ValidateOnStart();
        services.AddOptions<LibvirtOptions>().BindConfiguration(LibvirtOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<InventoryOptions>, InventoryOptionsValidator>();
        services.AddSingleton<IValidateOptions<PolicyOptions>, PolicyOptionsValidator>();
        services.AddSingleton<IValidateOptions<PrometheusOptions>, PrometheusOptionsValidator>();
        services.AddSingleton<IValidateOptions<WebhookOptions>, WebhookOptionsValidator>();
        services.AddSingleton<IValidateOptions<JournalOptions>, JournalOptionsValidator>();
        services.AddSingleton<IValidateOptions<LibvirtOptions>, LibvirtOptionsValidator>();
        return builder;
    }
}
