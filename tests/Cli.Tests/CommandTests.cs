using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CliWrap.Buffered;
using Loadshift.Rebalancer.Tests.Support;
using Loadshift.Testing;

namespace Loadshift.Cli.Tests;

/// <summary>Every verb of the real loadshift against a running Rebalancer over HTTP (real SQLite journal; libvirt and
/// Prometheus swapped): its text, its JSON, its exit codes and its messages.</summary>
public sealed class CommandTests : IDisposable
{
    private readonly RunningRebalancer rebalancer;

    public CommandTests() => rebalancer = new RunningRebalancer(f => f.Settings["policy:automation"] = "manual");

    public void Dispose() => rebalancer.Dispose();

    private static StringContent Firing() =>
        new(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Payloads", "firing-hv1.json")), Encoding.UTF8, "application/json");

    private static void Ok(ToolResult result) => Assert.True(result.ExitCode == 0, result.ToString());

    private static void Fails(ToolResult result, int exitCode, string message)
    {
        Assert.True(result.ExitCode == exitCode, result.ToString());
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
        Assert.Equal("", result.Stdout);
    }

    /// <summary>HypervisorCpuHigh for hv1 in manual: the move of vm2 to hv2 waits; its decision id.</summary>
    private async Task<long> RecommendedAsync()
    {
        using var client = rebalancer.Factory.CreateAuthorizedClient();
        (await client.PostAsync(new Uri("/api/v1/webhook", UriKind.Relative), Firing())).Dispose();
        long id = 0;
        await Eventually.TrueAsync(async () =>
        {
            var pending = await client.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/recommendations?status=pending", UriKind.Relative));
            id = pending.GetArrayLength() == 1 ? pending[0].GetProperty("decisionId").GetInt64() : 0;
            return id > 0;
        }, "a recommendation");
        return id;
    }

    [Fact]
    public async Task Status_shows_the_hosts_bars_domains_and_policy_and_its_json_is_the_apis()
    {
        var text = await rebalancer.RunAsync("status");

        Ok(text);
        Assert.Contains("automation manual", text.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"hv1\s+█+░*│?░* 0\.93", text.Stdout);
        Assert.Contains("vm1 0.30, vm2 0.29, vm3 0.31", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("Migrations in flight none", text.Stdout, StringComparison.Ordinal);

        var json = await rebalancer.RunAsync("status", "--output", "json");

        Ok(json);
        using var document = JsonDocument.Parse(json.Stdout);
        var hosts = document.RootElement.GetProperty("hosts").EnumerateArray().Select(h => h.GetProperty("name").GetString()).ToList();
        Assert.Equal(["hv1", "hv2", "hv3"], hosts);
        Assert.Equal("manual", document.RootElement.GetProperty("policy").GetProperty("automation").GetString());
        Assert.Contains("Broken rules none", text.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_lists_a_broken_hard_rule()
    {
        // vm1 and vm2 both start on hv1: the hard group is broken from the first pass on.
        using var broken = new RunningRebalancer(f =>
        {
            f.Settings["policy:automation"] = "manual";
            f.Settings["rules:antiAffinity:0:name"] = "web";
            f.Settings["rules:antiAffinity:0:domains:0"] = "vm1";
            f.Settings["rules:antiAffinity:0:domains:1"] = "vm2";
        });
        using var client = broken.Factory.CreateAuthorizedClient();
        await Eventually.TrueAsync(async () =>
        {
            var status = await client.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/status", UriKind.Relative));
            return status.TryGetProperty("ruleViolations", out var v) && v.ValueKind == JsonValueKind.Array && v.GetArrayLength() > 0;
        }, "a rule violation in the status");

        var text = await broken.RunAsync("status");

        Ok(text);
        Assert.Matches(@"anti_affinity\s+│?\s*hv1\s+│?\s*vm1, vm2", text.Stdout);
    }

    [Fact]
    public async Task A_wrong_token_an_unreachable_rebalancer_and_a_missing_token_say_so_with_their_exit_codes()
    {
        var wrong = await Loadshift.RunAsync(["status"], new Dictionary<string, string?> { ["LOADSHIFT_URL"] = rebalancer.Url, ["LOADSHIFT_TOKEN"] = "not-it" });
        Fails(wrong, 3, "refused the token from LOADSHIFT_TOKEN (401)");

        var port = Loopback.FreePort();
        var unreachable = await Loadshift.RunAsync(["status", "--url", $"http://127.0.0.1:{port}"], new Dictionary<string, string?> { ["LOADSHIFT_TOKEN"] = "x" });
        Fails(unreachable, 4, $"cannot reach the Rebalancer at http://127.0.0.1:{port}/: Connection refused");

        using var directory = new TempDirectory();
        var missing = await Loadshift.RunAsync(["status", "--url", rebalancer.Url, "--token-file", directory.Combine("none")]);
        Fails(missing, 3, $"cannot read the token from --token-file {directory.Combine("none")}");

        File.WriteAllText(directory.Combine("token"), RebalancerFactory.Token + "\n");
        Ok(await Loadshift.RunAsync(["status", "--url", rebalancer.Url, "--token-file", directory.Combine("token")]));
        Ok(await Loadshift.RunAsync(["status"], new Dictionary<string, string?> { ["LOADSHIFT_URL"] = rebalancer.Url, ["LOADSHIFT_TOKEN_FILE"] = directory.Combine("token") }));

        var usage = await rebalancer.RunAsync("status", "--output", "yaml");
        Assert.Equal(2, usage.ExitCode);
    }

    [Fact]
    public async Task Plan_explains_what_it_would_do_and_an_unknown_host_is_exit_5()
    {
        var text = await rebalancer.RunAsync("plan", "--host", "hv1");

        Ok(text);
        Assert.Contains("relief hv1: migrate (overloaded)", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("Moves weighed", text.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"chosen\s+│?\s*vm2\s+│?\s*hv2", text.Stdout);

        var json = await rebalancer.RunAsync("plan", "--host", "hv1", "-o", "json");
        Ok(json);
        using var document = JsonDocument.Parse(json.Stdout);
        Assert.Equal("vm2", document.RootElement.GetProperty("decisions")[0].GetProperty("migration").GetProperty("domain").GetString());

        Fails(await rebalancer.RunAsync("plan", "--host", "hv9"), 5, "unknown host: hv9 is not in the inventory.");
    }

    [Fact]
    public async Task Approve_makes_the_waiting_move_explain_and_history_show_it_and_a_second_approve_is_a_conflict()
    {
        var id = await RecommendedAsync();

        var status = await rebalancer.RunAsync("status");
        Ok(status);
        Assert.Contains($"loadshift approve {id}", status.Stdout, StringComparison.Ordinal);
        Assert.Equal("hv1", rebalancer.Factory.Hypervisor.HostOf("vm2"));

        var approved = await rebalancer.RunAsync("approve", id.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Ok(approved);
        Assert.Matches($@"approved decision {id}: vm2 hv1 -> hv2, migration \d+ started", approved.Stdout);
        await Eventually.TrueAsync(() => Task.FromResult(rebalancer.Factory.Hypervisor.HostOf("vm2") == "hv2"), "vm2 on hv2");
        Fails(await rebalancer.RunAsync("approve", $"{id}"), 6, $"not approvable: Decision {id} is approved since");
        Fails(await rebalancer.RunAsync("reject", "999"), 5, "unknown recommendation: No decision 999 waits for approval");

        var explain = await rebalancer.RunAsync("explain", $"{id}");
        Ok(explain);
        Assert.Contains($"Decision {id}", explain.Stdout, StringComparison.Ordinal);
        Assert.Contains("Targets rejected", explain.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"vm2\s+│?\s*hv1 -> hv2\s+.*succeeded", explain.Stdout);
        var explainJson = await rebalancer.RunAsync("explain", $"{id}", "-o", "json");
        using (var document = JsonDocument.Parse(explainJson.Stdout))
        {
            Assert.Equal(id, document.RootElement.GetProperty("decision").GetProperty("id").GetInt64());
            Assert.Equal(3, document.RootElement.GetProperty("considered").GetArrayLength());
        }
        Fails(await rebalancer.RunAsync("explain", "424242"), 5, "unknown decision: The journal holds no decision 424242.");

        var history = await rebalancer.RunAsync("history", "--domain", "vm2", "--kind", "relief", "--since", "1h", "-o", "json");
        Ok(history);
        using (var document = JsonDocument.Parse(history.Stdout))
        {
            Assert.Equal(id, Assert.Single(document.RootElement.GetProperty("decisions").EnumerateArray()).GetProperty("id").GetInt64());
            Assert.Equal("vm2", Assert.Single(document.RootElement.GetProperty("migrations").EnumerateArray()).GetProperty("domain").GetString());
        }
        var historyText = await rebalancer.RunAsync("history", "--host", "hv2");
        Ok(historyText);
        Assert.Contains("vm2 hv1 -> hv2", historyText.Stdout, StringComparison.Ordinal);
        var future = await rebalancer.RunAsync("history", "--since", "2099-01-01T00:00:00Z", "-o", "json");
        using (var document = JsonDocument.Parse(future.Stdout))
        {
            Assert.Equal(0, document.RootElement.GetProperty("decisions").GetArrayLength());
        }
        Fails(await rebalancer.RunAsync("history", "--domain", "vm9"), 5, "unknown domain: vm9 has never been seen");
        Fails(await rebalancer.RunAsync("history", "--host", "hv9"), 5, "unknown host: hv9 is not in the inventory.");
        Fails(await rebalancer.RunAsync("history", "--since", "yesterday"), 2, "--since 'yesterday' is neither a time");
        Assert.Equal(2, (await rebalancer.RunAsync("history", "--kind", "bogus")).ExitCode);
    }

    [Fact]
    public async Task Reject_drops_the_waiting_move()
    {
        var id = await RecommendedAsync();

        var rejected = await rebalancer.RunAsync("reject", $"{id}", "-o", "json");

        Ok(rejected);
        using var document = JsonDocument.Parse(rejected.Stdout);
        Assert.Equal("rejected", document.RootElement.GetProperty("recommendation").GetProperty("status").GetString());
        Assert.Empty(rebalancer.Factory.Hypervisor.Migrations);
        Fails(await rebalancer.RunAsync("approve", $"{id}"), 6, "is rejected since");
    }

    [Fact]
    public async Task Drain_and_undrain_a_host_and_an_unknown_host_is_exit_5()
    {
        var drained = await rebalancer.RunAsync("drain", "hv3");
        Ok(drained);
        Assert.Contains("hv3 receives nothing; its domains move off one at a time.", drained.Stdout, StringComparison.Ordinal);
        Assert.Contains("maintenance", (await rebalancer.RunAsync("status")).Stdout, StringComparison.Ordinal);

        var undrained = await rebalancer.RunAsync("undrain", "hv3", "-o", "json");
        Ok(undrained);
        using var document = JsonDocument.Parse(undrained.Stdout);
        Assert.False(document.RootElement.GetProperty("maintenance").GetBoolean());

        Fails(await rebalancer.RunAsync("drain", "hv9"), 5, "unknown host: hv9 is not in the inventory.");
    }

    [Fact]
    public async Task Bash_completes_verbs_and_the_rebalancers_host_names()
    {
        using var directory = new TempDirectory();
        // loadshift on PATH, as an installed command is.
        var wrapper = directory.Combine("loadshift");
        File.WriteAllText(wrapper, $"#!/bin/sh\nexec dotnet '{Loadshift.Dll}' \"$@\"\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var script = await rebalancer.RunAsync("completion", "bash");
        Ok(script);
        File.WriteAllText(directory.Combine("completion.bash"), script.Stdout);

        async Task<string[]> CompleteAsync(string line, params string[] words)
        {
            var result = await CliWrap.Cli.Wrap("bash")
                .WithArguments(["-c", $"source '{directory.Combine("completion.bash")}'; COMP_LINE=\"$1\"; COMP_POINT=${{#1}}; COMP_WORDS=(\"${{@:2}}\"); " +
                    "COMP_CWORD=$(($# - 2)); _loadshift; printf '%s\\n' \"${COMPREPLY[@]}\"", "bash", line, .. words])
                .WithEnvironmentVariables(e => e.Set("PATH", $"{directory.Path}:{Environment.GetEnvironmentVariable("PATH")}")
                    .Set("LOADSHIFT_URL", rebalancer.Url).Set("LOADSHIFT_TOKEN", RebalancerFactory.Token))
                .WithValidation(CliWrap.CommandResultValidation.None)
                .ExecuteBufferedAsync();
            return result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        }

        Assert.Equal(["drain"], await CompleteAsync("loadshift dr", "loadshift", "dr"));
        Assert.Equal(["hv1", "hv2", "hv3"], await CompleteAsync("loadshift drain h", "loadshift", "drain", "h"));
        Assert.Contains("approve", await CompleteAsync("loadshift ", "loadshift", ""));
    }
}
