namespace Loadshift.Demo.Tests;

/// <summary>Needs no lab: lab/demo's check that a service it has just started still runs (still_running, taken
/// from lab/demo as it is), against real processes started the way start_service starts them.</summary>
public class ServiceStartTests
{
    private static readonly string Demo = Path.Combine(RepositoryRoot.Path, "lab", "demo");

    /// <summary>Runs <paramref name="body"/> in bash with lab/demo's still_running defined; returns its stdout.</summary>
    private static string WithStillRunning(string body)
    {
        var script = $$"""
            set -euo pipefail
            eval "$(sed -n '/^still_running() {$/,/^}$/p' "$1")"
            declare -F still_running >/dev/null || { echo "no still_running() in lab/demo" >&2; exit 1; }
            {{body}}
            """;
        return Tool.RunOk("bash", ["-c", script, "still-running", Demo], timeout: TimeSpan.FromSeconds(30)).Stdout;
    }

    [Fact]
    public void A_service_is_running_from_the_instant_it_is_started_while_it_is_still_setsid()
    {
        // Checked at once after `setsid CMD &`, as wait_ready does when the first curl is refused: the child may still
        // be bash or setsid then. Twenty starts, so that the instant is hit.
        var output = WithStillRunning("""
            for i in $(seq 1 20); do
                setsid sleep 5 </dev/null >/dev/null 2>&1 &
                pid=$!
                if still_running "$pid"; then echo "running $(cat /proc/$pid/comm)"; else echo "exited $(cat /proc/$pid/comm 2>/dev/null)"; fi
                kill "$pid"
            done
            """);

        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(20, lines.Length);
        Assert.All(lines, line => Assert.StartsWith("running ", line, StringComparison.Ordinal));
    }

    [Fact]
    public void A_service_that_exited_or_a_PID_that_is_no_number_is_not_running()
    {
        var output = WithStillRunning("""
            setsid sh -c 'exit 3' </dev/null >/dev/null 2>&1 &
            pid=$!
            sleep 0.5
            still_running "$pid" && echo "exited child: running" || echo "exited child: not running"
            still_running "" && echo "empty: running" || echo "empty: not running"
            still_running "12ab" && echo "garbage: running" || echo "garbage: not running"
            still_running "$$" && echo "itself: running" || echo "itself: not running"
            """);

        Assert.Equal("exited child: not running\nempty: not running\ngarbage: not running\nitself: running\n", output);
    }
}
