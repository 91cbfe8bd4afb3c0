using System.Diagnostics;
using Loadshift.Testing;

namespace Loadshift.Cli.Tests;

/// <summary>loadshift watch in a real terminal: a tmux session on a server of its own (its own socket), 150 x 50,
/// read with capture-pane as a person would see it.</summary>
internal sealed class Tmux : IDisposable
{
    private readonly string socket = $"loadshift-cli-test-{Environment.ProcessId}-{Guid.NewGuid():N}";

    public Tmux(IReadOnlyDictionary<string, string?> environment)
    {
        var variables = environment.Where(e => e.Value is not null).SelectMany(e => new[] { "-e", $"{e.Key}={e.Value}" });
        var result = Tool.Run("tmux",
        [
            "-L", socket, "new-session", "-d", "-s", "watch", "-x", "150", "-y", "50", .. variables, "-e", "TERM=xterm-256color",
            "dotnet", Loadshift.Dll, "watch",
        ]);
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    public string Screen() => Tool.Run("tmux", ["-L", socket, "capture-pane", "-p", "-t", "watch"]).Stdout;

    /// <summary>Captures the screen every 200 ms until <paramref name="done"/> holds; that screen.</summary>
    public async Task<string> WaitForAsync(Func<string, bool> done, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var screen = "";
        while (clock.Elapsed < timeout)
        {
            screen = Screen();
            if (done(screen))
            {
                return screen;
            }
            await Task.Delay(200);
        }
        throw new Xunit.Sdk.XunitException($"watch did not show it within {timeout.TotalSeconds:0} s; last screen:\n{screen}");
    }

    public void Dispose() => Tool.Run("tmux", ["-L", socket, "kill-server"]);
}
