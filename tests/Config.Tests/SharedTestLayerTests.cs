using System.Diagnostics;

namespace Loadshift.Config.Tests;

/// <summary>The pieces every test project shares (tests/Testing, and lab/Lab.State's RepositoryRoot): what the other
/// tests rely on them for, on real processes and files.</summary>
public sealed class SharedTestLayerTests
{
    [Fact]
    public void Tool_passes_each_argument_as_it_is_with_no_shell_between()
    {
        string[] arguments = ["two words", "", "\"quoted\"", "back\\slash", "$HOME", "a;b", "it's", "*"];

        var result = Tool.RunOk("printf", ["[%s]\n", .. arguments]);

        Assert.Equal(string.Concat(arguments.Select(a => $"[{a}]\n")), result.Stdout);
    }

    [Fact]
    public void Tool_keeps_the_exit_code_and_both_streams_apart_and_interleaved()
    {
        var result = Tool.Run("bash", ["-c", "echo out; sleep 0.2; echo err >&2; sleep 0.2; echo more; exit 3"]);

        Assert.Equal(3, result.ExitCode);
        Assert.Equal("out\nmore\n", result.Stdout);
        Assert.Equal("err\n", result.Stderr);
        Assert.Equal("out\nerr\nmore\n", result.Output);
        Assert.Contains("$ bash -c echo out;", result.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Tool_writes_stdin_when_given_and_closes_it_otherwise()
    {
        Assert.Equal("a\nb\n", Tool.RunOk("cat", [], stdin: "a\nb\n").Stdout);
        // Not the test host's stdin: cat sees end of input at once.
        Assert.Equal("", Tool.RunOk("cat", [], timeout: TimeSpan.FromSeconds(10)).Stdout);
    }

    [Fact]
    public void Tool_runs_in_the_checkout_unless_told_otherwise()
    {
        Assert.Equal(RepositoryRoot.Path + "\n", Tool.RunOk("pwd", []).Stdout);
        using var temp = new TempDirectory();
        Assert.Equal(temp.Path + "\n", Tool.RunOk("pwd", [], workingDirectory: temp.Path).Stdout);
    }

    [Fact]
    public async Task Tool_kills_at_the_deadline_and_says_what_ran_and_what_it_printed()
    {
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<TimeoutException>(() =>
            Tool.RunAsync("bash", ["-c", "echo started; sleep 30"], timeout: TimeSpan.FromSeconds(1)));

        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10));
        Assert.StartsWith("bash -c echo started; sleep 30 did not finish within 00:00:01", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("started\n", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tool_does_not_wait_past_the_deadline_for_a_child_that_holds_the_output_open()
    {
        var clock = Stopwatch.StartNew();

        await Assert.ThrowsAsync<TimeoutException>(() =>
            Tool.RunAsync("bash", ["-c", "sleep 5 & echo started"], timeout: TimeSpan.FromSeconds(1)));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"returned after {clock.Elapsed}");
    }

    [Fact]
    public async Task Tool_with_a_grace_period_asks_the_program_to_stop_first()
    {
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<TimeoutException>(() => Tool.RunAsync("bash",
            ["-c", "trap 'kill $!; echo terminated; exit 143' TERM; sleep 20 >/dev/null & wait"],
            timeout: TimeSpan.FromSeconds(1), grace: TimeSpan.FromSeconds(15)));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"returned after {clock.Elapsed}: not stopped by SIGTERM, killed");
        Assert.Contains("(sent SIGTERM, then given 00:00:15)", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("terminated\n", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_tool_that_is_not_installed_names_the_package_to_install()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Tool.Run("loadshift-no-such-tool", []));

        Assert.Equal("'loadshift-no-such-tool' is not installed (not found on PATH). Install the Debian package: apt-get install loadshift-no-such-tool",
            error.Message);
    }

    [Fact]
    public async Task A_background_process_keeps_its_output_and_ends_with_its_children_on_dispose()
    {
        int child;
        int id;
        using (var process = new BackgroundProcess("bash", ["-c", "sleep 30 & echo $!; echo ready >&2; wait"], RepositoryRoot.Path))
        {
            id = process.Id;
            // stdout (the child's PID) and stderr ("ready") come through two pipes: either may be read first (a CI run
            // of 2026-12-07 read "ready" first), so wait for both.
            static string? Pid(string output) => output.Split('\n').FirstOrDefault(l => l.Length > 0 && l.All(char.IsAsciiDigit));
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (!(process.Output.Contains("ready", StringComparison.Ordinal) && Pid(process.Output) is not null) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }

            Assert.Equal("bash", process.Name);
            Assert.False(process.HasExited);
            child = int.Parse(Pid(process.Output) ?? "", System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(Directory.Exists($"/proc/{child}"));
        }

        Assert.False(Alive(id), "the process outlived its dispose");
        Assert.False(Alive(child), "its child outlived its dispose");
    }

    // A killed process may stay a zombie until its parent (init, for an orphan) reaps it: that is dead too.
    private static bool Alive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    [Fact]
    public async Task A_background_process_that_exits_by_itself_gives_its_exit_code()
    {
        using var process = new BackgroundProcess("bash", ["-c", "echo bye; exit 4"], RepositoryRoot.Path);

        Assert.Equal(4, await process.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(process.HasExited);
        Assert.Equal("bye\n", process.Output);
    }

    [Fact]
    public void The_repository_root_is_the_nearest_folder_with_Stack_sln_and_its_absence_is_named()
    {
        using var temp = new TempDirectory();
        Directory.CreateDirectory(temp.Combine("a", "b"));
        Directory.CreateDirectory(temp.Combine("inner"));
        File.WriteAllText(temp.Combine("Stack.sln"), "");
        File.WriteAllText(temp.Combine("inner", "Stack.sln"), "");

        Assert.Equal(temp.Path, RepositoryRoot.Find(temp.Combine("a", "b")));
        Assert.Equal(temp.Combine("inner"), RepositoryRoot.Find(temp.Combine("inner")));
        Assert.True(File.Exists(Path.Combine(RepositoryRoot.Path, "Stack.sln")));

        File.Delete(temp.Combine("Stack.sln"));
        var error = Assert.Throws<InvalidOperationException>(() => RepositoryRoot.Find(temp.Combine("a", "b")));
        Assert.Equal($"no Stack.sln in {temp.Combine("a", "b")} or above it: run from a checkout of the repository", error.Message);
    }

    [Fact]
    public void A_rule_file_loads_recording_rules_and_alerts_with_every_field()
    {
        using var temp = new TempDirectory();
        var file = temp.Combine("rules.yml");
        File.WriteAllText(file, """
            groups:
              - name: first
                rules:
                  - record: host:x:ratio
                    expr: sum by (host) (x)
              - name: second
                rules:
                  - alert: XHigh
                    expr: host:x:ratio > 0.8
                    for: 2m
                    keep_firing_for: 1m
                    labels: {severity: warning, action: rebalance}
                    annotations:
                      summary: X is high
            """);

        var rules = Rule.Load(file);

        Assert.Equal(2, rules.Count);
        var record = rules[0];
        Assert.Equal(("first", "host:x:ratio", null, "sum by (host) (x)"), (record.Group, record.Record, record.Alert, record.Expr));
        Assert.True(record.IsRecording);
        Assert.Equal("record host:x:ratio", record.Query.Where);
        var alert = rules[1];
        Assert.Equal(("second", "XHigh", "2m", "1m"), (alert.Group, alert.Name, alert.For, alert.KeepFiringFor));
        Assert.False(alert.IsRecording);
        Assert.Equal("alert XHigh", alert.Query.Where);
        Assert.Equal(new Dictionary<string, string> { ["severity"] = "warning", ["action"] = "rebalance" }, alert.Labels);
        Assert.Equal("X is high", alert.Annotations["summary"]);
        Assert.Equal("rules.yml: XHigh", alert.ToString());
    }

    [Fact]
    public void The_committed_rule_files_are_those_of_prometheus_rules()
    {
        Assert.Equal(Directory.GetFiles(Path.Combine(RepositoryRoot.Path, "prometheus", "rules"), "*.yml").Order(StringComparer.Ordinal), Rule.Files);
        Assert.Contains(Rule.CommittedAlerts, r => r.Alert == "HypervisorCpuHigh");
        Assert.All(Rule.CommittedAlerts, r => Assert.False(r.IsRecording));
    }
}
