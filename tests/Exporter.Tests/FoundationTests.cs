namespace Loadshift.Exporter.Tests;

/// <summary>The project's own scripts: the test command and CI (shellcheck checks them with every other script,
/// Config.Tests' ShellcheckTests).</summary>
public class FoundationTests
{
    [Fact]
    public void The_readme_names_the_test_command_that_ci_runs()
    {
        var readme = File.ReadAllText(Path.Combine(Repo.Root, "README.md"));
        var ci = File.ReadAllText(Path.Combine(Repo.Root, ".ci", "run"));

        Assert.Contains("`tests/run`", readme, StringComparison.Ordinal);
        Assert.Contains("exec tests/run", ci, StringComparison.Ordinal);
    }
}
