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
    // git-ignored .state/.cache and the C# projects (folders holding a .csproj, with their bin/ and obj/).
    private static IEnumerable<string> LabScripts()
    {
        var lab = Path.Combine(LabState.RepoRoot, "lab");
        return Walk(new DirectoryInfo(lab));

        static IEnumerable<string> Walk(DirectoryInfo dir)
        {
            if (dir.Name.StartsWith('.') || dir.EnumerateFiles("*.csproj").Any())
            {
                yield break;
            }
            foreach (var file in dir.EnumerateFiles().OrderBy(f => f.Name, StringComparer.Ordinal))
            {
                if (IsShellScript(file.FullName))
                {
                    yield return file.FullName;
                }
            }
            foreach (var sub in dir.EnumerateDirectories().OrderBy(d => d.Name, StringComparer.Ordinal))
            {
                foreach (var script in Walk(sub))
                {
                    yield return script;
                }
            }
        }
    }

    private static bool IsShellScript(string file)
    {
        using var reader = new StreamReader(file);
        var first = reader.ReadLine() ?? "";
        return first.StartsWith("#!/bin/bash", StringComparison.Ordinal) || first.StartsWith("#!/bin/sh", StringComparison.Ordinal)
            || first.StartsWith("#!/usr/bin/env bash", StringComparison.Ordinal)
            || first.StartsWith("# shellcheck shell=", StringComparison.Ordinal);
    }
}
