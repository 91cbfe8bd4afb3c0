namespace Loadshift.Exporter.Tests;

/// <summary>The project's own scripts: the test command and CI.</summary>
public class FoundationTests
{
    [Theory]
    [InlineData("tests/run")]
    [InlineData("tests/install-deps")]
    [InlineData(".ci/run")]
    public async Task Scripts_pass_shellcheck(string script)
    {
        var result = await Tool.RunAsync("shellcheck", [Path.Combine(Repo.Root, script)]);

        Assert.True(result.ExitCode == 0, result.Stdout + result.Stderr);
    }

    [Fact]
    public void The_readme_names_the_test_command_that_ci_runs()
    {
        var readme = File.ReadAllText(Path.Combine(Repo.Root, "README.md"));
        var ci = File.ReadAllText(Path.Combine(Repo.Root, ".ci", "run"));

        Assert.Contains("`tests/run`", readme, StringComparison.Ordinal);
        Assert.Contains("exec tests/run", ci, StringComparison.Ordinal);
    }
}
