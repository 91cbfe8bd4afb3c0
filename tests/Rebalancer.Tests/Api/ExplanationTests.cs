using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Loadshift.Rebalancer.Tests.Support;
using Loadshift.Rebalancer.Tests.Webhook;

namespace Loadshift.Rebalancer.Tests.Api;

/// <summary>GET /api/v1/decisions/{id}: a decision with the moves weighed and the targets rejected, from the journal.</summary>
public sealed class ExplanationTests : IDisposable
{
    private readonly RebalancerFactory factory = new();

    public void Dispose() => factory.Dispose();

    [Fact]
    public async Task A_relief_keeps_the_moves_weighed_and_the_targets_rejected_with_their_rule()
    {
        using var client = factory.CreateAuthorizedClient();
        // hv3 in maintenance: every domain of hv1 has hv3 rejected by the maintenance rule.
        (await client.PostAsync(new Uri("/api/v1/hosts/hv3/drain", UriKind.Relative), null)).Dispose();
        using var payload = ApiTests.Payload("firing-hv1.json");
        (await client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative), payload)).Dispose();
        await Eventually.TrueAsync(() => Task.FromResult(factory.Hypervisor.HostOf("vm2") == "hv2"), "vm2 moved to hv2");

        var relief = (await WebhookContractTests.JournalAsync(client, "decisions")).GetProperty("items").EnumerateArray()
            .Single(d => d.GetProperty("reason").GetString() == "overloaded");
        var id = relief.GetProperty("id").GetInt64();
        var explanation = await client.GetFromJsonAsync<JsonElement>(new Uri($"/api/v1/decisions/{id}", UriKind.Relative));

        Assert.Equal(id, explanation.GetProperty("decision").GetProperty("id").GetInt64());
        // Each domain of hv1 with its best target (hv2) and the prediction; vm2, the lightest that relieves hv1, chosen.
        var considered = explanation.GetProperty("considered").EnumerateArray().ToList();
        Assert.Equal(["vm1", "vm2", "vm3"], considered.Select(c => c.GetProperty("plan").GetProperty("domain").GetString()).Order());
        Assert.All(considered, c => Assert.Equal("hv2", c.GetProperty("plan").GetProperty("target").GetString()));
        var chosen = Assert.Single(considered, c => c.GetProperty("chosen").GetBoolean());
        Assert.Equal("vm2", chosen.GetProperty("plan").GetProperty("domain").GetString());
        Assert.Equal(0.64, chosen.GetProperty("plan").GetProperty("sourceBusyAfter").GetDouble(), 3);
        Assert.Equal(0.33, chosen.GetProperty("plan").GetProperty("targetBusyAfter").GetDouble(), 3);
        // The planner's cost estimate of the move, in seconds of copying.
        Assert.True(chosen.GetProperty("cost").GetDouble() > 0);
        Assert.Equal(chosen.GetProperty("plan").GetProperty("costSeconds").GetDouble(), chosen.GetProperty("cost").GetDouble());
        var rejected = explanation.GetProperty("rejected").EnumerateArray().ToList();
        Assert.Equal(["vm1", "vm2", "vm3"], rejected.Select(r => r.GetProperty("domain").GetString()).Order());
        Assert.All(rejected, r =>
        {
            Assert.Equal("hv3", r.GetProperty("target").GetString());
            Assert.Equal("maintenance", r.GetProperty("rule").GetString());
            Assert.Equal("hv3 is in maintenance", r.GetProperty("reason").GetString());
        });
        var migration = Assert.Single(explanation.GetProperty("migrations").EnumerateArray());
        Assert.Equal("vm2", migration.GetProperty("domain").GetString());

        // The log line stays one short line: the rejections are in the journal, not in the log.
        var line = Assert.Single(factory.Logs.Lines, l => l.Message.Contains("migrate vm2 hv1->hv2", StringComparison.Ordinal));
        Assert.DoesNotContain("maintenance", line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_or_malformed_id_is_a_json_error_and_the_token_is_required()
    {
        using var client = factory.CreateAuthorizedClient();

        using var unknown = await client.GetAsync(new Uri("/api/v1/decisions/424242", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
        var problem = await unknown.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Unknown decision", problem.GetProperty("title").GetString());
        Assert.Contains("424242", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        using var malformed = await client.GetAsync(new Uri("/api/v1/decisions/-1", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);

        using var anonymous = factory.CreateClient();
        using var denied = await anonymous.GetAsync(new Uri("/api/v1/decisions/1", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, denied.StatusCode);
    }
}
