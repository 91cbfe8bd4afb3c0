using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using Loadshift.Rebalancer.Webhook;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace Loadshift.Faults.Tests;

[CollectionDefinition(Name)]
public sealed class BadInputGroup : ICollectionFixture<FullLoop>
{
    public const string Name = "bad input";
}

/// <summary>Issue 13 item 9: 10,000 payloads against the running Rebalancer, half mutations of real Alertmanager
/// payloads, half built by generators (CsCheck), plus the extremes (deep nesting, over the size limit, not UTF-8).
/// Every answer is 202 or a 4xx (400, 413): the webhook's contract answers 5xx only when the journal cannot be
/// written, which it can here. Afterwards the Rebalancer runs, its memory grew by less than
/// <see cref="MaxGrowthBytes"/>, the journal passes SQLite's integrity check and holds every receipt it answered 202
/// for.</summary>
[Trait("Category", "Lab")]
[Collection(BadInputGroup.Name)]
public sealed class BadInputTests(FullLoop loop, ITestOutputHelper output)
{
    private const int Count = 10_000;

    /// <summary>The Rebalancer's resident memory may grow by this much over 10,000 requests: its journal connection,
    /// Kestrel's buffers and the JIT's warm-up (measured on the lab: docs/reliability.md); a leak of even 10 KiB per
    /// request would pass it.</summary>
    private const long MaxGrowthBytes = 96L << 20;

    private static readonly int[] Allowed = [202, 400, 413];

    [Fact]
    public async Task Ten_thousand_mutated_and_generated_payloads_get_a_4xx_or_a_202_and_break_nothing()
    {
        var run = new FaultRun(loop, output);
        // Warm up (JIT, connection pool, journal) before the first memory reading.
        foreach (var seed in Payloads.All)
        {
            using var _ = await PostAsync(Encoding.UTF8.GetBytes(seed));
        }
        var before = ResidentBytes(loop.RebalancerId);
        var codes = new ConcurrentDictionary<int, int>();
        var receipts = new ConcurrentBag<long>();
        var unexpected = new ConcurrentBag<string>();

        Body.Sample(body =>
        {
            using var response = PostAsync(body).GetAwaiter().GetResult();
            var code = (int)response.StatusCode;
            codes.AddOrUpdate(code, 1, (_, n) => n + 1);
            if (!Allowed.Contains(code))
            {
                unexpected.Add($"{code}: {Show(body)} -> {response.Content.ReadAsStringAsync().GetAwaiter().GetResult()}");
            }
            else if (code == 202)
            {
                receipts.Add(response.Content.ReadFromJsonAsync<WebhookReceipt>().GetAwaiter().GetResult()!.ReceiptId);
            }
        }, iter: Count, threads: 4);

        var after = ResidentBytes(loop.RebalancerId);
        var counts = string.Join(", ", codes.OrderBy(c => c.Key).Select(c => $"{c.Key}: {c.Value}"));
        run.Say($"{codes.Values.Sum()} payloads; answers {counts}; resident memory {before >> 20} -> {after >> 20} MiB");
        Assert.True(unexpected.IsEmpty, $"{unexpected.Count} answers outside {string.Join("/", Allowed)}:\n{string.Join('\n', unexpected.Take(10))}");
        Assert.Equal(Count, codes.Values.Sum());
        Assert.True(codes.GetValueOrDefault(202) > 100 && codes.GetValueOrDefault(400) > 100, $"the generators reach both sides: {counts}");

        await loop.WaitForRebalancerAsync();
        Assert.True(after - before < MaxGrowthBytes, $"resident memory grew {(after - before) >> 20} MiB over {Count} requests");
        JournalIntact(receipts);
        var sees = await run.FiredAndResolvedAsync("RebalancerWebhookErrors");
        await FaultRun.ReportAsync(
            $"| 9. {Count:N0} mutated and generated payloads (4 at a time) | answers {counts} | a 4xx for each bad payload, no 5xx; {sees} | 0 s | nothing: every 202's receipt in the journal, integrity_check ok, resident memory {before >> 20} -> {after >> 20} MiB |");
    }

    private async Task<HttpResponseMessage> PostAsync(byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return await loop.Http.PostAsync(new Uri($"{loop.RebalancerUrl}/api/v1/webhook"), content);
    }

    private void JournalIntact(IEnumerable<long> receipts)
    {
        var ids = receipts.ToHashSet();
        using var journal = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = loop.Journal, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        journal.Open();
        using var check = journal.CreateCommand();
        check.CommandText = "PRAGMA integrity_check;";
        Assert.Equal("ok", check.ExecuteScalar() as string);
        using var read = journal.CreateCommand();
        read.CommandText = "SELECT id FROM webhook_receipts;";
        var found = new HashSet<long>();
        using (var reader = read.ExecuteReader())
        {
            while (reader.Read())
            {
                found.Add(reader.GetInt64(0));
            }
        }
        Assert.True(ids.IsSubsetOf(found), $"{ids.Except(found).Count()} of {ids.Count} receipts answered 202 are not in the journal");
    }

    private static long ResidentBytes(int process) =>
        File.ReadLines($"/proc/{process}/status").Where(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024).Single();

    private static string Show(byte[] body)
    {
        var text = Encoding.UTF8.GetString(body);
        return text.Length <= 300 ? text : text[..300] + $"... ({body.Length} bytes)";
    }

    // --- The generators.

    private static readonly Gen<string> Text = Gen.OneOf(
        Gen.Const(""), Gen.String, Gen.String[1, 3], Gen.Const("hv1"), Gen.Const("HypervisorCpuHigh"), Gen.Const("rebalance"),
        Gen.Const("firing"), Gen.Const("resolved"), Gen.Const("4"), Gen.Const("2026-12-03T19:00:00Z"), Gen.Const("0001-01-01T00:00:00Z"),
        Gen.Const("\u0000"), Gen.Const("--p2p"), Gen.Const("../../etc/passwd"), Gen.Const("'; DROP TABLE migrations; --"));

    private static readonly Gen<JsonNode?> Scalar = Gen.OneOf(
        Gen.Bool.Select(_ => (JsonNode?)null), Gen.Bool.Select(b => (JsonNode?)b), Gen.Long.Select(n => (JsonNode?)n),
        Gen.Double.Select(d => double.IsFinite(d) ? (JsonNode?)d : 1e308), Text.Select(s => (JsonNode?)s));

    private static Gen<JsonNode?> Value(int depth) => depth == 0 ? Scalar : Gen.Frequency(
        (4, Scalar),
        (1, Value(depth - 1).Array[0, 4].Select(items => (JsonNode?)new JsonArray(items))),
        (1, Gen.Select(Text, Value(depth - 1)).Array[0, 4].Select(Object)));

    private static JsonNode? Object((string Key, JsonNode? Value)[] properties)
    {
        var o = new JsonObject();
        foreach (var (key, value) in properties)
        {
            o[key] = value;
        }
        return o;
    }

    /// <summary>An alert as Alertmanager's, each field either plausible or anything.</summary>
    private static readonly Gen<JsonNode?> Alert = Gen.Select(
        Gen.OneOf(Gen.Const("firing").Select(v => (JsonNode?)v), Gen.Const("resolved").Select(v => (JsonNode?)v), Scalar),
        Gen.Select(Gen.OneOf(Gen.Const("HypervisorCpuHigh"), Text), Gen.OneOf(Gen.Const("hv1"), Gen.Const("hv9"), Text),
            Gen.OneOf(Gen.Const("rebalance"), Text)),
        Gen.OneOf(Gen.Const("2026-12-03T19:00:00.000Z").Select(v => (JsonNode?)v), Scalar),
        Gen.OneOf(Gen.Const("0001-01-01T00:00:00Z").Select(v => (JsonNode?)v), Scalar),
        Gen.OneOf(Gen.String[1, 16].Select(s => (JsonNode?)s), Scalar),
        Value(1))
        .Select((status, labels, startsAt, endsAt, fingerprint, extra) => (JsonNode?)new JsonObject
        {
            ["status"] = status,
            ["labels"] = new JsonObject { ["alertname"] = labels.Item1, ["host"] = labels.Item2, ["action"] = labels.Item3 },
            ["annotations"] = extra,
            ["startsAt"] = startsAt,
            ["endsAt"] = endsAt,
            ["fingerprint"] = fingerprint,
        });

    /// <summary>A payload built field by field: version, status, alerts, truncatedAlerts plausible or anything.</summary>
    private static readonly Gen<byte[]> Generated = Gen.Select(
        Gen.OneOf(Gen.Const("4").Select(v => (JsonNode?)v), Gen.Const("3").Select(v => (JsonNode?)v), Scalar),
        Gen.OneOf(Gen.Const("firing").Select(v => (JsonNode?)v), Scalar),
        Gen.OneOf(Alert.Array[0, 5].Select(a => (JsonNode?)new JsonArray(a)), Value(2)),
        Gen.OneOf(Gen.Const(0).Select(v => (JsonNode?)v), Gen.Int.Select(n => (JsonNode?)n), Scalar),
        Gen.OneOf(Text.Select(s => (JsonNode?)s), Scalar))
        .Select((version, status, alerts, truncated, groupKey) => Encoding.UTF8.GetBytes(new JsonObject
        {
            ["version"] = version,
            ["status"] = status,
            ["receiver"] = "rebalancer",
            ["groupKey"] = groupKey,
            ["truncatedAlerts"] = truncated,
            ["alerts"] = alerts,
        }.ToJsonString()));

    /// <summary>A real payload with one mutation: a node replaced by anything, a property removed, the text cut short,
    /// a byte changed, garbage inserted, or its alerts repeated (past webhook.maxBodyBytes at the top).</summary>
    /// <remarks>The repeat is one mutation in 20 and up to 2,500 alerts (about 1.4 MB): each one under the limit is
    /// journaled whole (the raw receipt), about 100 MB over the run, which the suite's journal file system holds.</remarks>
    private static readonly Gen<byte[]> Mutated = Gen.Select(Gen.Int[0, Payloads.All.Count - 1], Gen.Int[0, 19], Gen.Int[0, int.MaxValue],
        Value(2), Gen.Int[1, 2_500])
        .Select((seed, kind, position, replacement, times) => Mutate(Payloads.All[seed], kind == 19 ? 5 : kind % 5, position, replacement, times));

    private static byte[] Mutate(string seed, int kind, int position, JsonNode? replacement, int times)
    {
        // truncated.json is cut short on purpose: only the byte mutations apply to it.
        if (Parse(seed) is not { } root)
        {
            kind = 2 + (kind % 2);
            root = new JsonObject();
        }
        var nodes = new List<JsonNode>();
        Walk(root, nodes);
        switch (kind)
        {
            case 0:
                var node = nodes[position % nodes.Count];
                if (node.Parent is JsonObject parent)
                {
                    parent[node.GetPropertyName()] = replacement;
                }
                else if (node.Parent is JsonArray array)
                {
                    array[node.GetElementIndex()] = replacement;
                }
                return Encoding.UTF8.GetBytes(root.ToJsonString());
            case 1:
                var gone = nodes[position % nodes.Count];
                if (gone.Parent is JsonObject owner)
                {
                    owner.Remove(gone.GetPropertyName());
                }
                return Encoding.UTF8.GetBytes(root.ToJsonString());
            case 2:
                var bytes = Encoding.UTF8.GetBytes(seed);
                return bytes[..(position % bytes.Length)];
            case 3:
                var changed = Encoding.UTF8.GetBytes(seed);
                changed[position % changed.Length] = (byte)(position >> 8);
                return changed;
            case 4:
                var at = position % seed.Length;
                return Encoding.UTF8.GetBytes(seed[..at] + (replacement?.ToJsonString() ?? "null") + seed[at..]);
            default:
                var alerts = root["alerts"] as JsonArray ?? [];
                var one = alerts.Count > 0 ? alerts[0]!.ToJsonString() : "{}";
                var repeated = new JsonArray([.. Enumerable.Range(0, times).Select(_ => JsonNode.Parse(one))]);
                root["alerts"] = repeated;
                return Encoding.UTF8.GetBytes(root.ToJsonString());
        }
    }

    private static JsonNode? Parse(string json)
    {
        try
        {
            return JsonNode.Parse(json);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static void Walk(JsonNode node, List<JsonNode> nodes)
    {
        if (node.Parent is not null)
        {
            nodes.Add(node);
        }
        var children = node switch
        {
            JsonObject o => o.Select(p => p.Value),
            JsonArray a => a.AsEnumerable(),
            _ => [],
        };
        foreach (var child in children.OfType<JsonNode>())
        {
            Walk(child, nodes);
        }
    }

    /// <summary>What no generator above reaches: nesting past System.Text.Json's depth, a body over the limit, bytes
    /// that are not UTF-8, nothing at all.</summary>
    private static readonly Gen<byte[]> Extremes = Gen.OneOf(
        Gen.Int[65, 5000].Select(depth => Encoding.UTF8.GetBytes(new string('[', depth) + new string(']', depth))),
        Gen.Int[65, 5000].Select(depth => Encoding.UTF8.GetBytes("{\"version\":\"4\",\"alerts\":" + string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth + 1))),
        Gen.Int[(1 << 20) + 1, 2 << 20].Select(size => Encoding.UTF8.GetBytes("{\"version\":\"4\",\"alerts\":[\"" + new string('x', size) + "\"]}")),
        Gen.Byte.Array[1, 200],
        Gen.Const<byte[]>([]),
        Gen.Const<byte[]>([(byte)'n', (byte)'u', (byte)'l', (byte)'l']));

    private static readonly Gen<byte[]> Body = Gen.Frequency((10, Mutated), (10, Generated), (1, Extremes));
}
