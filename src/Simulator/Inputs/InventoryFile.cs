using Loadshift.Rebalancer.Inventory;
using Microsoft.Extensions.Configuration;

namespace Loadshift.Simulator.Inputs;

/// <summary>The Rebalancer's inventory, read as the Rebalancer reads it: its YAML provider, its duration format
/// (<c>90s</c>, <c>5m</c>), its binder and its validators. A host's <c>libvirtUri</c> may be left out: the simulator
/// talks to no libvirt.</summary>
public sealed record InventoryFile(InventoryOptions Inventory, PolicyOptions Policy)
{
    /// <summary>Stands in for a missing libvirtUri so the Rebalancer's validator checks the rest (libvirt's own
    /// test driver URI; never connected to).</summary>
    private const string NoLibvirt = "test:///default";

    public static InventoryFile Load(string path, IEnumerable<KeyValuePair<string, string?>>? overrides = null)
    {
        if (!File.Exists(path))
        {
            throw new InputException($"--inventory: '{path}' does not exist");
        }
        using var reader = File.OpenText(path);
        return Parse(reader, path, overrides);
    }

    public static InventoryFile Parse(TextReader reader, string source, IEnumerable<KeyValuePair<string, string?>>? overrides = null)
    {
        DurationConverter.Register();
        Dictionary<string, string?> data;
        try
        {
            data = YamlConfigurationProvider.Parse(reader, source);
        }
        catch (InvalidDataException e)
        {
            throw new InputException(e.Message, e);
        }
        var builder = new ConfigurationBuilder().AddInMemoryCollection(data);
        if (overrides is not null)
        {
            builder.AddInMemoryCollection(overrides);
        }
        var configuration = builder.Build();
        var inventory = new InventoryOptions();
        var policy = new PolicyOptions();
        try
        {
            configuration.Bind(inventory);
            configuration.GetSection(PolicyOptions.Section).Bind(policy);
        }
        catch (InvalidOperationException e)
        {
            throw new InputException($"{source}: {e.Message}", e);
        }
        foreach (var host in inventory.Hosts.Where(h => string.IsNullOrEmpty(h.LibvirtUri)))
        {
            host.LibvirtUri = NoLibvirt;
        }
        var errors = new List<string>();
        var hostsResult = new InventoryOptionsValidator().Validate(null, inventory);
        var policyResult = new PolicyOptionsValidator().Validate(null, policy);
        errors.AddRange(hostsResult.Failures ?? []);
        errors.AddRange(policyResult.Failures ?? []);
        if (errors.Count > 0)
        {
            throw new InputException($"{source}: {string.Join("; ", errors)}");
        }
        return new InventoryFile(inventory, policy);
    }
}

/// <summary>Input the simulator cannot use; the message names the file and, for CSV, the line.</summary>
public sealed class InputException(string message, Exception? inner = null) : Exception(message, inner);
