namespace Loadshift.Lab.Tests;

/// <summary>Needs no lab: shellcheck (Debian package, installed by lab/up) on every shell script of the lab.</summary>
public sealed class ShellcheckTests
{
    [Fact]
    public async Task EveryLabScriptPassesShellcheck()
    {
        var scripts = LabScripts().ToList();
        Assert.Contains(scripts, s => s.EndsWith("/lab/up", StringComparison.Ordinal));
        Assert.Contains(scripts, s => s.EndsWith("/lab/down", StringComparison.Ordinal));

        RunResult result;
        try
        {
            result = await Run.Async("shellcheck", scripts, TimeSpan.FromMinutes(2));
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("shellcheck is not installed: apt-get install shellcheck (lab/up installs it)", e);
        }

        Assert.True(result.ExitCode == 0, result.ToString());
    }

    // Every file under lab/ that starts with a shell shebang or a shellcheck shell directive, outside the
    // git-ignored .state/.cache and the C# project.
    private static IEnumerable<string> LabScripts()
    {
        var lab = Path.Combine(LabState.RepoRoot, "lab");
        foreach (var file in Directory.EnumerateFiles(lab, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(lab, file);
            if (relative.StartsWith('.') || relative.StartsWith("LoadGenerator", StringComparison.Ordinal))
            {
                continue;
            }
            using var reader = new StreamReader(file);
            var first = reader.ReadLine() ?? "";
            if (first.StartsWith("#!/bin/bash", StringComparison.Ordinal) || first.StartsWith("#!/bin/sh", StringComparison.Ordinal)
                || first.StartsWith("# shellcheck shell=", StringComparison.Ordinal))
            {
                yield return file;
            }
        }
    }
}
