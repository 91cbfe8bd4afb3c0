using Loadshift.Rebalancer.Inventory;
using Loadshift.Rebalancer.Planning;
using Microsoft.Extensions.Configuration;

namespace Loadshift.Rebalancer.Tests.Inventory;

public sealed class InventoryTests
{
    [Theory]
    [InlineData("90s", 90)]
    [InlineData("5m", 300)]
    [InlineData("1h30m", 5400)]
    [InlineData("250ms", 0.25)]
    [InlineData("00:02:00", 120)]
    public void Durations_read_as_prometheus_writes_them_or_as_timespans(string text, double seconds)
    {
        DurationConverter.Register();
        var value = (TimeSpan)System.ComponentModel.TypeDescriptor.GetConverter(typeof(TimeSpan)).ConvertFromInvariantString(text)!;

        Assert.Equal(seconds, value.TotalSeconds, 6);
    }

    [Theory]
    [InlineData("http://127.0.0.1:10180", "http://127.0.0.1:10180")]
    [InlineData("https://[::1]:10180/", "https://[::1]:10180/")]
    [InlineData("127.0.0.1:10180", "http://127.0.0.1:10180")]
    [InlineData("[::]:10180", "http://[::]:10180")]
    [InlineData(":10180", "http://*:10180")]
    [InlineData("rebalancer.example:8080", "http://rebalancer.example:8080")]
    [InlineData("", "http://127.0.0.1:10180")]
    public void Listen_takes_urls_and_the_exporters_host_port_forms(string listen, string url)
    {
        Assert.Equal(url, RebalancerServices.ListenUrl(listen, out _));
    }

    [Theory]
    [InlineData("10.0.0.1")]
    [InlineData("http://10.0.0.1")]
    [InlineData("10.0.0.1:99999")]
    [InlineData("ftp://10.0.0.1:21")]
    [InlineData("hv 1:10180")]
    public void A_listen_value_that_is_no_address_is_refused_with_the_key(string listen)
    {
        Assert.Null(RebalancerServices.ListenUrl(listen, out var error));
        Assert.StartsWith("listen must be", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Yaml_becomes_configuration_keys_with_list_indices()
    {
        var data = YamlConfigurationProvider.Parse(new StringReader("""
            policy:
              highWatermark: 0.85
              virshFlags: [--p2p, --auto-converge]
            hosts:
              - name: hv1
                home: [vm1]
            pinned: ~
            """), "test.yaml");

        Assert.Equal("0.85", data["policy:highWatermark"]);
        Assert.Equal("--auto-converge", data["policy:virshFlags:1"]);
        Assert.Equal("hv1", data["hosts:0:name"]);
        Assert.Equal("vm1", data["hosts:0:home:0"]);
        Assert.Null(data["pinned"]);
    }

    [Fact]
    public void Broken_yaml_names_the_file_line_and_column()
    {
        var error = Assert.Throws<InvalidDataException>(() =>
            YamlConfigurationProvider.Parse(new StringReader("hosts:\n  - name: hv1\n   bad: [\n"), "inventory.yaml"));

        Assert.StartsWith("inventory.yaml:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_policy_values_are_reported_by_their_key()
    {
        var result = new PolicyOptionsValidator().Validate(null, new PolicyOptions
        {
            HighWatermark = 1.5,
            LowWatermark = 0.9,
            MaxMigrationsInFlight = 0,
            ReturnHomeAfter = TimeSpan.Zero,
            VirshFlags = ["p2p"],
            MaxMovesPerDomain = 0,
            MaxMovesWindow = TimeSpan.Zero,
            MinGain = 1,
            MigrationBytesPerSecond = 0,
            VerifyAfter = TimeSpan.Zero,
            VerifyTolerance = 1.2,
            DidNotHelpCooldownFactor = 0.5,
        });

        Assert.True(result.Failed);
        var failures = string.Join('\n', result.Failures!);
        Assert.Contains("policy.highWatermark", failures, StringComparison.Ordinal);
        Assert.Contains("policy.maxMigrationsInFlight", failures, StringComparison.Ordinal);
        Assert.Contains("policy.returnHomeAfter", failures, StringComparison.Ordinal);
        Assert.Contains("policy.virshFlags", failures, StringComparison.Ordinal);
        Assert.Contains("policy.maxMovesPerDomain must be at least 1 (got 0)", failures, StringComparison.Ordinal);
        Assert.Contains("policy.maxMovesWindow must be a positive duration", failures, StringComparison.Ordinal);
        Assert.Contains("policy.minGain must be a ratio in [0, 1) (got 1)", failures, StringComparison.Ordinal);
        Assert.Contains("policy.migrationBytesPerSecond must be a positive number", failures, StringComparison.Ordinal);
        Assert.Contains("policy.verifyAfter", failures, StringComparison.Ordinal);
        Assert.Contains("policy.verifyTolerance", failures, StringComparison.Ordinal);
        Assert.Contains("policy.didNotHelpCooldownFactor", failures, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-0.01)]
    [InlineData(0.30)]
    [InlineData(double.NaN)]
    public void A_relief_margin_that_is_negative_or_aims_at_the_low_watermark_is_reported_by_its_key(double margin)
    {
        // Defaults 0.80 and 0.50: a margin of 0.30 would aim relief at the low watermark, where returns home are let in.
        var result = new PolicyOptionsValidator().Validate(null, new PolicyOptions { ReliefMargin = margin });

        Assert.True(result.Failed);
        Assert.Contains("policy.reliefMargin must be at least 0 and leave policy.highWatermark (0.8) - reliefMargin above policy.lowWatermark (0.5)",
            string.Join('\n', result.Failures!), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.05)]
    [InlineData(0.29)]
    public void A_relief_margin_from_0_that_aims_above_the_low_watermark_is_valid(double margin) =>
        Assert.True(new PolicyOptionsValidator().Validate(null, new PolicyOptions { ReliefMargin = margin }).Succeeded);

    [Theory]
    [InlineData("full", true, true, true, true, true)]
    [InlineData("partial", true, true, true, false, false)]
    [InlineData("manual", false, false, false, false, false)]
    public void Each_automation_level_lets_its_kinds_act(string level, bool relief, bool memoryRelief, bool drain, bool returnHome, bool ruleRepair)
    {
        Assert.Equal(
            [relief, memoryRelief, drain, returnHome, ruleRepair],
            new[] { DecisionKind.Relief, DecisionKind.MemoryRelief, DecisionKind.Drain, DecisionKind.ReturnHome, DecisionKind.RuleRepair }
                .Select(kind => Automation.Acts(level, kind)));
    }

    [Fact]
    public void An_unknown_automation_level_is_reported_by_its_key()
    {
        var policy = new PolicyOptions { Automation = "sometimes", RecommendationExpiry = TimeSpan.Zero };
        policy.DomainAutomation["db1"] = "auto";

        var result = new PolicyOptionsValidator().Validate(null, policy);

        Assert.True(result.Failed);
        var failures = string.Join('\n', result.Failures!);
        Assert.Contains("policy.automation must be one of full, partial, manual (got 'sometimes')", failures, StringComparison.Ordinal);
        Assert.Contains("policy.domainAutomation.db1 must be one of full, partial, manual (got 'auto')", failures, StringComparison.Ordinal);
        Assert.Contains("policy.recommendationExpiry", failures, StringComparison.Ordinal);
        Assert.False(new PolicyOptionsValidator().Validate(null, new PolicyOptions { Automation = "partial" }).Failed);
    }

    [Fact]
    public void The_verification_keys_bind_and_verifyAfter_defaults_to_settleTime()
    {
        DurationConverter.Register();
        static PolicyOptions Bind(string yaml) => new Microsoft.Extensions.Configuration.ConfigurationBuilder()
            .AddInMemoryCollection(YamlConfigurationProvider.Parse(new StringReader(yaml), "test.yaml")).Build()
            .GetSection(PolicyOptions.Section).Get<PolicyOptions>()!;

        var set = Bind("policy: {settleTime: 45s, verifyAfter: 2m, verifyTolerance: 0.05, didNotHelpCooldownFactor: 3}");
        var unset = Bind("policy: {settleTime: 45s}");

        Assert.Equal((TimeSpan.FromMinutes(2), 0.05, 3.0), (set.VerifyAfterOrSettleTime, set.VerifyTolerance, set.DidNotHelpCooldownFactor));
        Assert.Equal((null, TimeSpan.FromSeconds(45)), (unset.VerifyAfter, unset.VerifyAfterOrSettleTime));
    }

    [Fact]
    public void Bad_hosts_are_reported_by_index_and_key()
    {
        var result = new InventoryOptionsValidator().Validate(null, new InventoryOptions
        {
            Hosts =
            [
                new InventoryHost { Name = "hv1", LibvirtUri = "qemu+tcp://10.0.0.1/system", CpuCapacity = 2, Home = ["vm1"] },
                new InventoryHost { Name = "hv1", LibvirtUri = "not a uri", CpuCapacity = 0, Home = ["vm1"] },
            ],
        });

        var failures = string.Join('\n', result.Failures!);
        Assert.Contains("hosts[1].name 'hv1' appears twice", failures, StringComparison.Ordinal);
        Assert.Contains("hosts[1].libvirtUri", failures, StringComparison.Ordinal);
        Assert.Contains("hosts[1].cpuCapacity", failures, StringComparison.Ordinal);
        Assert.Contains("hosts[1].home: domain 'vm1' already has home host 'hv1'", failures, StringComparison.Ordinal);
        Assert.Contains("hosts: at least one host", string.Join('\n', new InventoryOptionsValidator().Validate(null, new InventoryOptions()).Failures!), StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_token_file_is_reported_by_its_key()
    {
        var result = new WebhookOptionsValidator().Validate(null, new WebhookOptions { TokenFile = "/nonexistent/token" });

        Assert.Contains("webhook.tokenFile '/nonexistent/token' does not exist", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void The_command_line_takes_config_and_dry_run_and_passes_the_rest_on()
    {
        var parsed = StartupArguments.Parse(["--config", "inv.yaml", "--dry-run", "--urls", "http://127.0.0.1:1"]);

        Assert.Equal("inv.yaml", parsed.ConfigPath);
        Assert.True(parsed.DryRun);
        Assert.Equal(["--urls", "http://127.0.0.1:1"], parsed.Rest);
        Assert.Throws<ArgumentException>(() => StartupArguments.Parse(["--config"]));
    }

    [Fact]
    public void The_command_line_passes_configuration_keys_on_as_aspnet_core_reads_them()
    {
        var parsed = StartupArguments.Parse(["--policy:returnHomeAfter=30s", "--prometheus:url", "http://127.0.0.1:1", "--listen=:1",
            "--environment=Development", "--help"]);

        Assert.Equal(["--policy:returnHomeAfter=30s", "--prometheus:url", "http://127.0.0.1:1", "--listen=:1", "--environment=Development"], parsed.Rest);
        Assert.True(parsed.Help);
    }

    [Theory]
    [InlineData("--dryrun", "unknown flag --dryrun")]
    [InlineData("--returnHomeAfter=30s", "unknown flag --returnHomeAfter=30s")]
    [InlineData("inventory.yaml", "unexpected argument 'inventory.yaml'")]
    [InlineData("--policy:dryRun", "--policy:dryRun needs a value")]
    public void A_mistyped_argument_stops_the_start_naming_it(string argument, string message)
    {
        Assert.False(StartupArguments.TryParse(["--config", "inv.yaml", argument], out _, out var usage));

        Assert.Contains(message, usage, StringComparison.Ordinal);
        Assert.Contains("usage: loadshift-rebalancer", usage, StringComparison.Ordinal);
    }
}

public sealed class LabInventoryTests
{
    [Fact]
    public async Task Lab_inventory_writes_a_valid_inventory_from_lab_json()
    {
        var script = Path.Combine(Loadshift.Lab.RepositoryRoot.Path, "src", "Rebalancer", "lab-inventory");
        var labJson = Path.Combine(AppContext.BaseDirectory, "Payloads", "lab.json");

        var result = await Loadshift.Testing.Tool.RunAsync(script, [labJson], timeout: TimeSpan.FromSeconds(30));

        Assert.True(result.ExitCode == 0, result.ToString());
        var data = YamlConfigurationProvider.Parse(new StringReader(result.Stdout), "generated");
        var configuration = new Microsoft.Extensions.Configuration.ConfigurationBuilder().AddInMemoryCollection(data).Build();
        var inventory = new InventoryOptions();
        Microsoft.Extensions.Configuration.ConfigurationBinder.Bind(configuration, inventory);
        Assert.True(new InventoryOptionsValidator().Validate(null, inventory).Succeeded);
        Assert.Equal(["hv1", "hv2", "hv3"], inventory.Hosts.Select(h => h.Name));
        Assert.Equal(["vm1", "vm2", "vm3"], inventory.Hosts[0].Home);
        Assert.Equal(0.6, inventory.Hosts[1].CpuCapacity);
        Assert.StartsWith("qemu+tcp://", inventory.Hosts[2].LibvirtUri, StringComparison.Ordinal);
    }
}

public sealed class RuleValidationTests
{
    private static InventoryOptions Inventory(RuleOptions rules) => new()
    {
        Hosts =
        [
            new InventoryHost { Name = "hv1", LibvirtUri = "qemu+tcp://10.0.0.1/system", CpuCapacity = 2 },
            new InventoryHost { Name = "hv2", LibvirtUri = "qemu+tcp://10.0.0.2/system", CpuCapacity = 2 },
        ],
        Rules = rules,
    };

    [Fact]
    public void A_rule_naming_an_unknown_host_is_an_error_that_names_the_key()
    {
        var result = new InventoryOptionsValidator().Validate(null, Inventory(new RuleOptions
        {
            DomainHost = [new DomainHostOptions { Domain = "web1", Must = ["hv1", "hv9"] }, new DomainHostOptions { Domain = "web2", Never = ["hv7"] }],
        }));

        Assert.True(result.Failed);
        var failures = string.Join('\n', result.Failures!);
        Assert.Contains("rules.domainHost[0].must[1]: host 'hv9' is not in hosts", failures, StringComparison.Ordinal);
        Assert.Contains("rules.domainHost[1].never[0]: host 'hv7' is not in hosts", failures, StringComparison.Ordinal);
    }

    [Fact]
    public void Contradictions_and_degenerate_groups_are_errors()
    {
        var result = new InventoryOptionsValidator().Validate(null, Inventory(new RuleOptions
        {
            AntiAffinity = [new DomainGroupOptions { Name = "web", Domains = ["web1"] }, new DomainGroupOptions { Name = "web", Domains = ["a", "b", "a"] }],
            Affinity = [new DomainGroupOptions { Domains = ["a", "b"] }],
            DomainHost =
            [
                new DomainHostOptions { Domain = "web1", Must = ["hv1"], Never = ["hv1"] },
                new DomainHostOptions { Domain = "web1", Should = ["hv2"] },
                new DomainHostOptions { Domain = "web3" },
            ],
        }));

        var failures = string.Join('\n', result.Failures!);
        string[] expected =
        [
            "rules.antiAffinity[0].domains must name at least two different domains (got 1)",
            "rules.antiAffinity[1].name 'web' appears twice",
            "rules.antiAffinity[1].domains names a domain twice",
            "rules.affinity[0].name is required",
            "rules.domainHost[0]: host 'hv1' is in both must and never",
            "rules.domainHost[1].domain 'web1' has a rule already",
            "rules.domainHost[2]: give at least one of must, should, never",
        ];
        Assert.All(expected, e => Assert.Contains(e, failures, StringComparison.Ordinal));
    }

    [Fact]
    public void Rules_bind_from_yaml_and_domains_not_running_yet_are_allowed()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(YamlConfigurationProvider.Parse(new StringReader("""
            hosts:
              - name: hv1
                libvirtUri: qemu+tcp://10.0.0.1/system
                cpuCapacity: 2
              - name: hv2
                libvirtUri: qemu+tcp://10.0.0.2/system
                cpuCapacity: 2
            rules:
              antiAffinity:
                - name: web
                  domains: [web1, web2]
                - name: cache
                  domains: [cache1, cache2]
                  hard: false
              affinity:
                - name: shop
                  domains: [app, db]
              domainHost:
                - domain: db
                  must: [hv1, hv2]
                  should: [hv1]
                  never: []
            """), "test.yaml")).Build();
        var inventory = new InventoryOptions();
        configuration.Bind(inventory);

        Assert.True(new InventoryOptionsValidator().Validate(null, inventory).Succeeded);
        var rules = Loadshift.Rebalancer.Planning.PlacementRules.From(inventory.Rules);
        Assert.Equal([("web", true), ("cache", false)], rules.AntiAffinity.Select(g => (g.Name, g.Hard)));
        Assert.Equal(["app", "db"], rules.Affinity.Single().Domains);
        Assert.False(rules.Affinity.Single().Hard);
        Assert.Equal(["hv1", "hv2"], rules.DomainHost.Single().Must);
        Assert.Equal(["hv1"], rules.DomainHost.Single().Should);
        Assert.Equal(["web1", "web2", "cache1", "cache2", "app", "db"], inventory.RuleDomains());
    }
}
