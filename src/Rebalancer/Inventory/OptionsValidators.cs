using Microsoft.Extensions.Options;

namespace Loadshift.Rebalancer.Inventory;

/// <summary>Checks the inventory at start; every message names the key as it is written in the YAML file.</summary>
internal sealed class InventoryOptionsValidator : IValidateOptions<InventoryOptions>
{
    public ValidateOptionsResult Validate(string? name, InventoryOptions options)
    {
        var errors = new List<string>();
        if (options.Hosts.Count == 0)
        {
            errors.Add("hosts: at least one host is required (start with --config <inventory.yaml>)");
        }
        var names = new HashSet<string>(StringComparer.Ordinal);
        var homes = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Hosts.Count; i++)
        {
            var host = options.Hosts[i];
            var key = $"hosts[{i}]";
            if (string.IsNullOrWhiteSpace(host.Name))
            {
                errors.Add($"{key}.name is required");
            }
            else if (!names.Add(host.Name))
            {
                errors.Add($"{key}.name '{host.Name}' appears twice");
            }
            if (!Uri.TryCreate(host.LibvirtUri, UriKind.Absolute, out _))
            {
                errors.Add($"{key}.libvirtUri must be a libvirt URI such as qemu+tcp://10.0.0.1/system (got '{host.LibvirtUri}')");
            }
            if (!(host.CpuCapacity > 0) || double.IsInfinity(host.CpuCapacity))
            {
                errors.Add($"{key}.cpuCapacity must be a positive number of CPUs (got {host.CpuCapacity})");
            }
            if (host.MemoryBytes < 0)
            {
                errors.Add($"{key}.memoryBytes must not be negative (got {host.MemoryBytes})");
            }
            foreach (var domain in host.Home)
            {
                if (homes.TryGetValue(domain, out var other))
                {
                    errors.Add($"{key}.home: domain '{domain}' already has home host '{other}'");
                }
                else
                {
                    homes[domain] = host.Name;
                }
            }
        }
        ValidateRules(options.Rules, names, errors);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>A rule naming a host not in <c>hosts</c> is an error; a domain not seen yet is allowed (it may not have
    /// started), and RebalanceWorker logs it.</summary>
    private static void ValidateRules(RuleOptions rules, HashSet<string> hosts, List<string> errors)
    {
        void Groups(string kind, List<DomainGroupOptions> groups)
        {
            var groupNames = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < groups.Count; i++)
            {
                var key = $"rules.{kind}[{i}]";
                var group = groups[i];
                if (string.IsNullOrWhiteSpace(group.Name))
                {
                    errors.Add($"{key}.name is required");
                }
                else if (!groupNames.Add(group.Name))
                {
                    errors.Add($"{key}.name '{group.Name}' appears twice");
                }
                if (group.Domains.Distinct(StringComparer.Ordinal).Count() is var distinct && distinct < 2)
                {
                    errors.Add($"{key}.domains must name at least two different domains (got {distinct})");
                }
                else if (distinct != group.Domains.Count)
                {
                    errors.Add($"{key}.domains names a domain twice");
                }
            }
        }
        Groups("antiAffinity", rules.AntiAffinity);
        Groups("affinity", rules.Affinity);
        var ruled = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < rules.DomainHost.Count; i++)
        {
            var rule = rules.DomainHost[i];
            var key = $"rules.domainHost[{i}]";
            if (string.IsNullOrWhiteSpace(rule.Domain))
            {
                errors.Add($"{key}.domain is required");
            }
            else if (!ruled.Add(rule.Domain))
            {
                errors.Add($"{key}.domain '{rule.Domain}' has a rule already: give it one entry with must, should and never");
            }
            if (rule.Must.Count + rule.Should.Count + rule.Never.Count == 0)
            {
                errors.Add($"{key}: give at least one of must, should, never");
            }
            foreach (var (list, hostsOf) in new[] { ("must", rule.Must), ("should", rule.Should), ("never", rule.Never) })
            {
                for (var j = 0; j < hostsOf.Count; j++)
                {
                    if (!hosts.Contains(hostsOf[j]))
                    {
                        errors.Add($"{key}.{list}[{j}]: host '{hostsOf[j]}' is not in hosts");
                    }
                }
            }
            if (rule.Must.Intersect(rule.Never, StringComparer.Ordinal).FirstOrDefault() is { } both)
            {
                errors.Add($"{key}: host '{both}' is in both must and never");
            }
        }
    }
}

internal sealed class PolicyOptionsValidator : IValidateOptions<PolicyOptions>
{
    public ValidateOptionsResult Validate(string? name, PolicyOptions o)
    {
        var errors = new List<string>();
        void Ratio(string key, double value)
        {
            if (!(value > 0 && value <= 1))
            {
                errors.Add($"policy.{key} must be a ratio in (0, 1] (got {value})");
            }
        }
        void Positive(string key, TimeSpan value)
        {
            if (value <= TimeSpan.Zero)
            {
                errors.Add($"policy.{key} must be a positive duration such as 90s or 5m (got {value})");
            }
        }
        Ratio("highWatermark", o.HighWatermark);
        Ratio("lowWatermark", o.LowWatermark);
        Ratio("memoryHighWatermark", o.MemoryHighWatermark);
        if (o.LowWatermark >= o.HighWatermark)
        {
            errors.Add($"policy.lowWatermark ({o.LowWatermark}) must be below policy.highWatermark ({o.HighWatermark})");
        }
        Positive("returnHomeAfter", o.ReturnHomeAfter);
        Positive("migrationTimeout", o.MigrationTimeout);
        Positive("checkInterval", o.CheckInterval);
        Positive("decisionWindow", o.DecisionWindow);
        Positive("alertExpiry", o.AlertExpiry);
        Positive("maxMovesWindow", o.MaxMovesWindow);
        if (!(o.MinGain >= 0 && o.MinGain < 1))
        {
            errors.Add($"policy.minGain must be a ratio in [0, 1) (got {o.MinGain})");
        }
        if (!(o.ReliefMargin >= 0 && o.HighWatermark - o.ReliefMargin > o.LowWatermark))
        {
            // At or under the low watermark a relief would aim where a return home is let in: the two would take turns.
            errors.Add($"policy.reliefMargin must be at least 0 and leave policy.highWatermark ({o.HighWatermark}) - reliefMargin above policy.lowWatermark ({o.LowWatermark}) (got {o.ReliefMargin})");
        }
        if (!(o.MigrationBytesPerSecond > 0) || double.IsInfinity(o.MigrationBytesPerSecond))
        {
            errors.Add($"policy.migrationBytesPerSecond must be a positive number of bytes per second (got {o.MigrationBytesPerSecond})");
        }
        if (o.MaxMovesPerDomain < 1)
        {
            errors.Add($"policy.maxMovesPerDomain must be at least 1 (got {o.MaxMovesPerDomain})");
        }
        if (o.Cooldown < TimeSpan.Zero)
        {
            errors.Add($"policy.cooldown must not be negative (got {o.Cooldown})");
        }
        if (o.SettleTime < TimeSpan.Zero)
        {
            errors.Add($"policy.settleTime must not be negative (got {o.SettleTime})");
        }
        if (o.MaxCooldown < o.Cooldown)
        {
            errors.Add($"policy.maxCooldown ({o.MaxCooldown}) must not be below policy.cooldown ({o.Cooldown})");
        }
        if (o.CooldownBackoff < 1)
        {
            errors.Add($"policy.cooldownBackoff must be at least 1 (got {o.CooldownBackoff})");
        }
        if (o.VerifyAfter is { } verifyAfter)
        {
            Positive("verifyAfter", verifyAfter);
        }
        if (!(o.VerifyTolerance >= 0 && o.VerifyTolerance < 1))
        {
            errors.Add($"policy.verifyTolerance must be a busy ratio in [0, 1) (got {o.VerifyTolerance})");
        }
        if (!(o.DidNotHelpCooldownFactor >= 1))
        {
            errors.Add($"policy.didNotHelpCooldownFactor must be at least 1 (got {o.DidNotHelpCooldownFactor})");
        }
        if (o.MaxMigrationsInFlight < 1)
        {
            errors.Add($"policy.maxMigrationsInFlight must be at least 1 (got {o.MaxMigrationsInFlight})");
        }
        foreach (var flag in o.VirshFlags)
        {
            if (!flag.StartsWith("--", StringComparison.Ordinal))
            {
                errors.Add($"policy.virshFlags: '{flag}' is not a virsh migrate option (they start with --)");
            }
        }
        if (string.IsNullOrWhiteSpace(o.AlertName))
        {
            errors.Add("policy.alertName is required");
        }
        Positive("recommendationExpiry", o.RecommendationExpiry);
        if (!Automation.Levels.Contains(o.Automation))
        {
            errors.Add($"policy.automation must be one of {string.Join(", ", Automation.Levels)} (got '{o.Automation}')");
        }
        foreach (var (domain, level) in o.DomainAutomation)
        {
            if (!Automation.Levels.Contains(level))
            {
                errors.Add($"policy.domainAutomation.{domain} must be one of {string.Join(", ", Automation.Levels)} (got '{level}')");
            }
        }
        if (string.IsNullOrWhiteSpace(o.MemoryAlertName) || o.MemoryAlertName == o.AlertName)
        {
            errors.Add($"policy.memoryAlertName is required and must differ from policy.alertName (got '{o.MemoryAlertName}')");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

internal sealed class WebhookOptionsValidator : IValidateOptions<WebhookOptions>
{
    public ValidateOptionsResult Validate(string? name, WebhookOptions o)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(o.TokenFile))
        {
            errors.Add("webhook.tokenFile is required: the file holding the bearer token Alertmanager sends");
        }
        else if (!File.Exists(o.TokenFile))
        {
            errors.Add($"webhook.tokenFile '{o.TokenFile}' does not exist");
        }
        else if (string.IsNullOrWhiteSpace(File.ReadAllText(o.TokenFile)))
        {
            errors.Add($"webhook.tokenFile '{o.TokenFile}' is empty");
        }
        if (o.MaxBodyBytes < 1024)
        {
            errors.Add($"webhook.maxBodyBytes must be at least 1024 (got {o.MaxBodyBytes})");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

internal sealed class PrometheusOptionsValidator : IValidateOptions<PrometheusOptions>
{
    public ValidateOptionsResult Validate(string? name, PrometheusOptions o)
    {
        var errors = new List<string>();
        if (!o.Url.IsAbsoluteUri || (o.Url.Scheme != Uri.UriSchemeHttp && o.Url.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add($"prometheus.url must be an http(s) URL (got '{o.Url}')");
        }
        if (o.Timeout <= TimeSpan.Zero)
        {
            errors.Add($"prometheus.timeout must be a positive duration (got {o.Timeout})");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

internal sealed class JournalOptionsValidator : IValidateOptions<JournalOptions>
{
    public ValidateOptionsResult Validate(string? name, JournalOptions o)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(o.Path))
        {
            errors.Add("journal.path is required: the SQLite file of the journal");
        }
        if (o.ReceiptRetention <= TimeSpan.Zero)
        {
            errors.Add($"journal.receiptRetention must be a positive duration such as 30d (got {o.ReceiptRetention})");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

internal sealed class LibvirtOptionsValidator : IValidateOptions<LibvirtOptions>
{
    public ValidateOptionsResult Validate(string? name, LibvirtOptions o)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(o.VirshPath))
        {
            errors.Add("libvirt.virshPath is required (the virsh client, e.g. virsh or /usr/bin/virsh)");
        }
        if (o.QueryTimeout <= TimeSpan.Zero)
        {
            errors.Add($"libvirt.queryTimeout must be a positive duration (got {o.QueryTimeout})");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
