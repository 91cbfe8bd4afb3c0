using System.Text;
using CliWrap;
using Loadshift.Lab;
using Loadshift.Testing;

namespace Loadshift.Cli.Tests;

/// <summary>The real loadshift command (built with these tests), run as a process with an argument list and its own
/// environment: the test process's LOADSHIFT_* variables are cleared so that only what a test gives counts.</summary>
internal static class Loadshift
{
    /// <summary>src/Cli's build of the same configuration as these tests (bin/CONFIGURATION/net10.0).</summary>
    public static string Dll { get; } = Path.Combine(RepositoryRoot.Path, "src", "Cli", "bin",
        new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name, "net10.0", "loadshift.dll");

    public static async Task<ToolResult> RunAsync(IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null,
        TimeSpan? timeout = null)
    {
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var command = CliWrap.Cli.Wrap("dotnet")
            .WithArguments([Dll, .. arguments])
            .WithEnvironmentVariables(e =>
            {
                e.Set("LOADSHIFT_URL", null).Set("LOADSHIFT_TOKEN", null).Set("LOADSHIFT_TOKEN_FILE", null);
                foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
                {
                    e.Set(name, value);
                }
            })
            .WithValidation(CommandResultValidation.None)
            .WithStandardOutputPipe(PipeTarget.ToStringBuilder(stdout))
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(stderr));
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        var result = await command.ExecuteAsync(deadline.Token);
        return new ToolResult(command.ToString(), result.ExitCode, stdout.ToString(), stderr.ToString(), stdout.ToString() + stderr);
    }
}
