namespace Loadshift.Config.Tests;

/// <summary>Every shell script of the repository passes shellcheck (Debian package, tests/install-deps installs it).
/// Scripts are found by their first line, not by a list of folders, so a script added anywhere is covered before it
/// is committed.</summary>
public sealed class ShellcheckTests
{
    [Fact]
    public void Every_shell_script_of_the_repository_passes_shellcheck()
    {
        var scripts = ShellScripts.In(RepositoryRoot.Path);
        // One from each corner: a finder that lost a folder fails here, not silently.
        foreach (var script in new[]
                 {
                     "lab/up", "lab/lib/common.sh", "lab/guest/init", "tests/run", "tests/bench/compare-scrapes",
                     "src/Rebalancer/lab-inventory", "prometheus/render", "grafana/render-png", ".ci/run",
                 })
        {
            Assert.Contains(Path.Combine(RepositoryRoot.Path, script), scripts);
        }

        // Every severity (style included); sourced files are followed from each script's own folder.
        var result = Tool.Run("shellcheck", ["--external-sources", "--source-path=SCRIPTDIR", "--severity=style", .. scripts],
            timeout: TimeSpan.FromMinutes(2));

        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Fact]
    public void Scripts_are_found_by_their_first_line_among_the_files_git_does_not_ignore()
    {
        using var temp = new TempDirectory();
        Tool.RunOk("git", ["init", "--quiet", temp.Path]);
        void Write(string file, string text)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(temp.Combine(file))!);
            File.WriteAllText(temp.Combine(file), text);
        }
        Write(".gitignore", "bin/\n/state/\n");
        Write("new/deep/script", "#!/bin/sh\necho new\n");
        Write("tool", "#!/usr/bin/env bash\necho tool\n");
        Write("lib.sh", "# shellcheck shell=bash\nf() { :; }\n");
        Write("dash", "#!/bin/dash -e\n:\n");
        Write(".ci/run", "#!/bin/bash\n:\n");
        Write("render.py", "#!/usr/bin/env python3\nprint(1)\n");
        Write("README.md", "# Title\n");
        Write("empty", "");
        Write("project/bin/Debug/launch", "#!/bin/bash\n:\n");
        Write("state/leftover", "#!/bin/bash\n:\n");

        var found = ShellScripts.In(temp.Path).Select(s => Path.GetRelativePath(temp.Path, s));

        Assert.Equal([".ci/run", "dash", "lib.sh", "new/deep/script", "tool"], found);
    }
}

/// <summary>The shell scripts of a checkout: every file git tracks or would track (not ignored, so new ones too) whose
/// first line is a shebang of a POSIX shell or bash, or a shellcheck shell directive (files meant to be sourced).</summary>
internal static class ShellScripts
{
    private static readonly HashSet<string> Shells = new(StringComparer.Ordinal) { "sh", "bash", "dash" };

    public static IReadOnlyList<string> In(string checkout)
    {
        var files = Tool.RunOk("git", ["-C", checkout, "ls-files", "-z", "--cached", "--others", "--exclude-standard"]).Stdout
            .Split('\0', StringSplitOptions.RemoveEmptyEntries);
        return [.. files.Distinct(StringComparer.Ordinal)
            .Select(f => Path.Combine(checkout, f))
            .Where(f => File.Exists(f) && IsShellScript(FirstLine(f)))
            .Order(StringComparer.Ordinal)];
    }

    private static bool IsShellScript(string line)
    {
        if (line.StartsWith("# shellcheck shell=", StringComparison.Ordinal))
        {
            return true;
        }

        if (!line.StartsWith("#!", StringComparison.Ordinal))
        {
            return false;
        }

        // "#!/bin/bash -e" or "#!/usr/bin/env bash": the interpreter is the first word, or the one env runs.
        var words = line[2..].Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var interpreter = words.Length > 1 && Path.GetFileName(words[0]) == "env" ? words[1] : words.FirstOrDefault() ?? "";
        return Shells.Contains(Path.GetFileName(interpreter));
    }

    private static string FirstLine(string file)
    {
        using var reader = new StreamReader(file);
        var buffer = new char[256];
        var length = reader.ReadBlock(buffer, 0, buffer.Length);
        return new string(buffer, 0, length).Split('\n')[0];
    }
}
