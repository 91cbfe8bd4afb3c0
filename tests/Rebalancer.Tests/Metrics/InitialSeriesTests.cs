using System.Net;
using System.Reflection;
using Loadshift.Rebalancer.Planning;
using Loadshift.Rebalancer.Tests.Support;

namespace Loadshift.Rebalancer.Tests.Metrics;

/// <summary>Every label set a counter is known to take is on /metrics at 0 from the start, so that increase() and
/// rate() in the alert rules see its first event: a series born at 1 has no earlier sample to rise from.</summary>
public sealed class InitialSeriesTests
{
    private static readonly Uri MetricsUri = new("/metrics", UriKind.Relative);

    [Fact]
    public async Task A_fresh_rebalancer_publishes_its_counters_label_sets_at_0()
    {
        using var factory = new RebalancerFactory();
        using var client = factory.CreateClient();

        var text = await client.GetStringAsync(MetricsUri);
        var samples = Series.Parse(text);

        foreach (var code in new[] { "202", "400", "401", "405", "413", "500", "503" })
        {
            Assert.Equal(0, samples[$"rebalancer_webhook_requests_total{{code=\"{code}\"}}"]);
        }
        foreach (var result in new[] { "succeeded", "failed", "timed_out", "interrupted" })
        {
            Assert.Equal(0, samples[$"rebalancer_migrations_total{{result=\"{result}\"}}"]);
        }
        foreach (var verdict in new[] { "helped", "did_not_help", "overloaded_target" })
        {
            Assert.Equal(0, samples[$"rebalancer_move_verdicts_total{{verdict=\"{verdict}\"}}"]);
        }
        foreach (var reason in new[] { "overloaded", "return_home", "drain" })
        {
            Assert.Equal(0, samples[$"rebalancer_decisions_total{{outcome=\"migrate\",reason=\"{reason}\"}}"]);
        }
        // The worker's first pass may already have journaled one (nothing_away): present is what counts here.
        foreach (var reason in Reasons.ForNoAction)
        {
            Assert.Contains($"rebalancer_decisions_total{{outcome=\"no_action\",reason=\"{reason}\"}}", samples.Keys);
        }
        Assert.DoesNotContain(samples.Keys, k => k.Contains("outcome=\"dry_run\"", StringComparison.Ordinal));
        // The inventory's domains (hv1's home: vm1..vm3), before libvirt was asked.
        foreach (var domain in new[] { "vm1", "vm2", "vm3" })
        {
            Assert.Equal(0, samples[$"rebalancer_domain_migrations_total{{domain=\"{domain}\"}}"]);
        }
        Assert.Equal(0, samples["rebalancer_journal_errors_total"]);
        Assert.Equal(0, samples["rebalancer_alerts_expired_total"]);
        await Loadshift.Testing.Tool.AssertPromtoolAcceptsMetricsAsync(text);
    }

    [Fact]
    public async Task Under_dry_run_the_migrating_decisions_are_published_as_dry_run()
    {
        using var factory = new RebalancerFactory();
        factory.Settings["policy:dryRun"] = "true";
        factory.Settings["pinned:0"] = "vm8";
        using var client = factory.CreateClient();

        var samples = Series.Parse(await client.GetStringAsync(MetricsUri));

        foreach (var reason in Reasons.ForMigration)
        {
            Assert.Equal(0, samples[$"rebalancer_decisions_total{{outcome=\"dry_run\",reason=\"{reason}\"}}"]);
        }
        Assert.DoesNotContain(samples.Keys, k => k.Contains("outcome=\"migrate\"", StringComparison.Ordinal));
        // Pinned domains are known from the inventory too (a pinned domain is never moved by the Rebalancer; 0 says so).
        Assert.Equal(0, samples["rebalancer_domain_migrations_total{domain=\"vm8\"}"]);
    }

    [Fact]
    public async Task A_domain_outside_the_inventory_is_published_at_0_once_libvirt_shows_it()
    {
        using var factory = new RebalancerFactory();
        factory.Hypervisor.Place("vm9", "hv2");
        using var client = factory.CreateClient();

        await Eventually.TrueAsync(async () => (await client.GetStringAsync(MetricsUri)).Contains("rebalancer_domain_migrations_total{domain=\"vm9\"} 0\n", StringComparison.Ordinal),
            "vm9, first seen on hv2 by the worker's first pass, at 0");
    }

    [Fact]
    public async Task Answers_from_routing_and_the_exception_handler_are_counted()
    {
        using var factory = new RebalancerFactory();
        using var client = factory.CreateAuthorizedClient();
        using var get = await client.GetAsync(new Uri("/api/v1/webhook", UriKind.Relative));
        // A token file the service cannot read as a file (a directory): an unexpected exception, answered 500 by the
        // exception handler, outside the endpoint and its filter.
        var tokenFile = Path.Combine(Path.GetDirectoryName(factory.JournalPath)!, "token");
        File.Delete(tokenFile);
        Directory.CreateDirectory(tokenFile);

        using var answer = await client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative), Loadshift.Rebalancer.Tests.Webhook.WebhookContractTests.Payload("firing-hv1.json"));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, answer.StatusCode);
        var samples = Series.Parse(await client.GetStringAsync(MetricsUri));
        Assert.Equal(1, samples["rebalancer_webhook_requests_total{code=\"405\"}"]);
        Assert.Equal(1, samples["rebalancer_webhook_requests_total{code=\"500\"}"]);
    }

    [Fact]
    public void Every_reason_belongs_to_one_outcome()
    {
        var constants = typeof(Reasons).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!).Order(StringComparer.Ordinal);

        Assert.Equal(constants, Reasons.ForMigration.Concat(Reasons.ForNoAction).Order(StringComparer.Ordinal));
    }
}
