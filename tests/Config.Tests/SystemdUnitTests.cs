using System.Text.RegularExpressions;

namespace Loadshift.Config.Tests;

/// <summary>
/// The committed systemd units, the Exporter's and the Rebalancer's. systemd is not PID 1 where the tests run, so
/// <c>systemd-analyze verify</c> loads each unit offline against a <c>--root</c> tree holding the unit, the system's
/// targets (After=, Wants=, WantedBy=) and an executable file at ExecStart's path (verify checks that it exists and
/// is executable). There it checks section and key names, the syntax of every value, the specifiers, and ExecStart
/// against Type=; an unknown key or a bad value is only a warning with exit code 0, so the tests require no output
/// at all. <c>systemd-analyze security --offline</c> scores the sandbox. Neither can tell whether User= exists,
/// whether the program starts, or whether the sandbox leaves it what it needs: that takes a running systemd.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class SystemdUnitTests
{
    private const string ExporterUnit = "src/Exporter/loadshift-exporter.service";
    private const string RebalancerUnit = "src/Rebalancer/loadshift-rebalancer.service";

    public static TheoryData<string> Units => new() { ExporterUnit, RebalancerUnit };

    /// <summary>The sandbox both units keep (README, "Install on a KVM host"; docs/rebalancer.md, "Running it").</summary>
    private static readonly Dictionary<string, string> Sandbox = new(StringComparer.Ordinal)
    {
        ["NoNewPrivileges"] = "yes",
        ["ProtectSystem"] = "strict",
        ["ProtectHome"] = "yes",
        ["PrivateTmp"] = "yes",
        ["PrivateDevices"] = "yes",
        ["ProtectKernelTunables"] = "yes",
        ["ProtectKernelModules"] = "yes",
        ["ProtectKernelLogs"] = "yes",
        ["ProtectControlGroups"] = "yes",
        ["ProtectClock"] = "yes",
        ["ProtectHostname"] = "yes",
        ["RestrictNamespaces"] = "yes",
        ["RestrictSUIDSGID"] = "yes",
        ["LockPersonality"] = "yes",
        ["RestrictRealtime"] = "yes",
        ["SystemCallArchitectures"] = "native",
        ["CapabilityBoundingSet"] = "",
        ["RestrictAddressFamilies"] = "AF_UNIX AF_INET AF_INET6",
        ["Restart"] = "on-failure",
    };

    [Theory]
    [MemberData(nameof(Units))]
    public async Task Systemd_analyze_verify_accepts_the_unit_without_a_warning(string unit)
    {
        using var root = VerifyRoot(unit, File.ReadAllText(Path.Combine(Repository.Root, unit)), out var unitPath);

        var result = await Tool.RunAsync("systemd-analyze", ["--root", root.Path, "verify", unitPath]);

        Assert.True(result.ExitCode == 0 && result.Stdout.Length + result.Stderr.Length == 0, result.ToString());
    }

    /// <summary>The check above can fail here: verify reports a bad value, a misplaced key and a missing binary.</summary>
    [Fact]
    public async Task Systemd_analyze_verify_reports_a_bad_value_and_a_missing_binary_here()
    {
        var text = File.ReadAllText(Path.Combine(Repository.Root, RebalancerUnit))
            .Replace("ProtectSystem=strict", "ProtectSystem=sometimes", StringComparison.Ordinal)
            .Replace("[Install]", "[Install]\nNoNewPrivileges=yes", StringComparison.Ordinal);
        using var root = VerifyRoot(RebalancerUnit, text, out var unitPath);

        var warned = await Tool.RunAsync("systemd-analyze", ["--root", root.Path, "verify", unitPath]);
        File.Delete(Path.Combine(root.Path, ExecStart(SystemdUnit.Parse(text))[0].TrimStart('/')));
        var missing = await Tool.RunAsync("systemd-analyze", ["--root", root.Path, "verify", unitPath]);

        Assert.Contains("Failed to parse protect system value", warned.Stderr, StringComparison.Ordinal);
        Assert.Contains("Unknown key 'NoNewPrivileges' in section [Install]", warned.Stderr, StringComparison.Ordinal);
        Assert.True(missing.ExitCode != 0 && missing.Stderr.Contains("is not executable", StringComparison.Ordinal), missing.ToString());
    }

    /// <summary>systemd's own score of the sandbox: 4.9 or less is "OK" (both units measured 3.2 when written).</summary>
    [Theory]
    [MemberData(nameof(Units))]
    public async Task Systemd_analyze_security_rates_the_sandbox_ok(string unit)
    {
        using var root = VerifyRoot(unit, File.ReadAllText(Path.Combine(Repository.Root, unit)), out var unitPath);

        var result = await Tool.RunAsync("systemd-analyze", ["--root", root.Path, "security", "--offline=yes", "--threshold=49", "--no-pager", unitPath]);

        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Theory]
    [MemberData(nameof(Units))]
    public void The_unit_keeps_the_sandbox(string unit)
    {
        var parsed = SystemdUnit.Load(Path.Combine(Repository.Root, unit));

        Assert.All(Sandbox, key => Assert.True(parsed.Value("Service", key.Key) == key.Value,
            $"{unit}: {key.Key}={key.Value} expected, found {parsed.Value("Service", key.Key) ?? "none"}"));
        Assert.NotNull(parsed.Value("Service", "User"));
        Assert.NotEqual("root", parsed.Value("Service", "User"));
        // 2 is a bad command line for both programs: restarting cannot fix it.
        Assert.Contains("2", (parsed.Value("Service", "RestartPreventExitStatus") ?? "").Split(' '));
    }

    [Theory]
    [MemberData(nameof(Units))]
    public void ExecStart_runs_the_program_itself_with_no_shell(string unit)
    {
        var parsed = SystemdUnit.Load(Path.Combine(Repository.Root, unit));

        var execStart = Assert.Single(parsed.Values("Service", "ExecStart"));
        var words = ExecStart(parsed);

        // No prefix (+ ! run it with privileges, - ignores its failure, @ : change argv[0] and expansion).
        Assert.Matches("^/", execStart);
        Assert.Equal(Path.GetFileNameWithoutExtension(unit), Path.GetFileName(words[0]));
        Assert.All(words.Skip(1), word => Assert.DoesNotMatch(ShellSyntax(), word));
    }

    /// <summary>The real program parses ExecStart's arguments: the built binary with them and --help, which both
    /// programs take after checking every other argument (exit code 2 and the flag's name otherwise).</summary>
    [Theory]
    [MemberData(nameof(Units))]
    public async Task ExecStart_flags_are_flags_the_program_takes(string unit)
    {
        var parsed = SystemdUnit.Load(Path.Combine(Repository.Root, unit));
        var words = ExecStart(parsed);
        var project = Path.GetDirectoryName(Path.Combine(Repository.Root, unit))!;
        using var output = new TempDirectory();
        var build = await Tool.RunAsync("dotnet", ["build", project, "-c", "Release", "-o", output.Path, "--nologo", "-v", "q"],
            timeout: TimeSpan.FromMinutes(5));
        Assert.True(build.ExitCode == 0, build.ToString());

        var result = await Tool.RunAsync("dotnet",
            [Path.Combine(output.Path, Path.GetFileName(words[0]) + ".dll"), .. words.Skip(1).Select(w => Expand(w, parsed.Name)), "--help"]);

        Assert.True(result.ExitCode == 0 && result.Stdout.Contains($"usage: {Path.GetFileName(words[0])}", StringComparison.Ordinal),
            result.ToString());
    }

    [Fact]
    public void The_rebalancer_unit_agrees_with_the_example_inventory_and_the_docs()
    {
        var unit = SystemdUnit.Load(Path.Combine(Repository.Root, RebalancerUnit));
        var inventory = Yaml.Load(Path.Combine(Repository.Root, "src", "Rebalancer", "inventory.example.yaml"));
        var words = ExecStart(unit);

        // The journal lies in the state directory, the one place ProtectSystem=strict leaves writable.
        Assert.StartsWith($"/var/lib/{unit.Value("Service", "StateDirectory")}/", inventory.Map("journal").Str("path"), StringComparison.Ordinal);
        // The token file systemd hands over is the one the docs and Alertmanager's credentials_file name.
        var credential = unit.Value("Service", "LoadCredential")!.Split(':', 2);
        Assert.Equal(["webhook.token", "/etc/loadshift/rebalancer-webhook.token"], credential);
        Assert.Equal(credential[1], inventory.Map("webhook").Str("tokenFile"));
        Assert.Contains($"--webhook:tokenFile=%d/{credential[0]}", words);
        Assert.Equal("/etc/loadshift/inventory.yaml", words[words.IndexOf("--config") + 1]);
        // Every configuration key on the command line is an inventory key.
        foreach (var key in words.Where(w => w.StartsWith("--", StringComparison.Ordinal) && w.Contains(':', StringComparison.Ordinal)))
        {
            var path = key[2..key.IndexOf('=', StringComparison.Ordinal)].Split(':');
            Assert.True(inventory.Map(path[0]).Get(path[1]) is not null, $"{key}: no {path[0]}.{path[1]} in inventory.example.yaml");
        }

        var docs = File.ReadAllText(Path.Combine(Repository.Root, "docs", "rebalancer.md"));
        Assert.Contains(RebalancerUnit, docs, StringComparison.Ordinal);
        Assert.DoesNotContain("[Service]", docs, StringComparison.Ordinal);
    }

    [Fact]
    public void The_exporter_unit_opens_libvirt_through_the_libvirt_group()
    {
        var unit = SystemdUnit.Load(Path.Combine(Repository.Root, ExporterUnit));

        Assert.Equal("libvirt", unit.Value("Service", "SupplementaryGroups"));
        Assert.Contains("--libvirt.uri=qemu:///system", ExecStart(unit));
    }

    /// <summary>A tree for <c>systemd-analyze --root</c>: the unit in etc/systemd/system, the system's targets (regular
    /// files only: its symlinks are absolute and would point out of the tree) and an executable at ExecStart's path.</summary>
    private static TempDirectory VerifyRoot(string unit, string text, out string unitPath)
    {
        var root = new TempDirectory();
        var units = Directory.CreateDirectory(root.Combine("etc", "systemd", "system")).FullName;
        unitPath = Path.Combine(units, Path.GetFileName(unit));
        File.WriteAllText(unitPath, text);
        var systemUnits = Directory.CreateDirectory(root.Combine("usr", "lib", "systemd", "system")).FullName;
        foreach (var target in Directory.GetFiles("/usr/lib/systemd/system", "*.target"))
        {
            if (new FileInfo(target).LinkTarget is null)
            {
                File.Copy(target, Path.Combine(systemUnits, Path.GetFileName(target)));
            }
        }
        var binary = root.Combine(ExecStart(SystemdUnit.Parse(text))[0].TrimStart('/'));
        Directory.CreateDirectory(Path.GetDirectoryName(binary)!);
        File.WriteAllText(binary, "#!/bin/true\n");
        File.SetUnixFileMode(binary, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return root;
    }

    /// <summary>ExecStart's words as systemd splits them (whitespace, double or single quotes).</summary>
    private static List<string> ExecStart(SystemdUnit unit) =>
        [.. Word().Matches(unit.Value("Service", "ExecStart") ?? "").Select(m => m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Success ? m.Groups[2].Value : m.Value)];

    /// <summary>The specifiers the units use, as systemd expands them for a system service; any other fails.</summary>
    private static string Expand(string word, string unitName) =>
        Specifier().Replace(word, m => m.Value switch
        {
            "%%" => "%",
            "%d" => $"/run/credentials/{unitName}",
            _ => throw new InvalidOperationException($"specifier {m.Value} in '{word}': add it here"),
        });

    [GeneratedRegex("\"([^\"]*)\"|'([^']*)'|\\S+")]
    private static partial Regex Word();

    [GeneratedRegex("%.")]
    private static partial Regex Specifier();

    /// <summary>What only a shell would act on: pipes, lists, redirections, substitutions, globs.</summary>
    [GeneratedRegex(@"[|;&<>`$*?]|^(sh|bash|dash)$|^-c$")]
    private static partial Regex ShellSyntax();
}

/// <summary>A unit file as systemd reads it: sections, keys in order (a key may repeat), comments and continuation
/// lines. Enough for the keys these tests look at; systemd-analyze verify is the judge of the rest.</summary>
internal sealed record SystemdUnit(string Name, IReadOnlyList<(string Section, string Key, string Value)> Entries)
{
    public static SystemdUnit Load(string path) => Parse(File.ReadAllText(path), Path.GetFileName(path));

    public static SystemdUnit Parse(string text, string name = "")
    {
        var entries = new List<(string, string, string)>();
        var section = "";
        var lines = text.Replace("\\\n", " ", StringComparison.Ordinal).Split('\n');
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';')
            {
                continue;
            }
            if (line[0] == '[')
            {
                section = line.Trim('[', ']');
                continue;
            }
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            entries.Add((section, line[..equals].Trim(), line[(equals + 1)..].Trim()));
        }
        return new SystemdUnit(name, entries);
    }

    public IReadOnlyList<string> Values(string section, string key) =>
        [.. Entries.Where(e => e.Section == section && e.Key == key).Select(e => e.Value)];

    /// <summary>The last assignment, as systemd takes it for a single-valued key.</summary>
    public string? Value(string section, string key) => Values(section, key) is { Count: > 0 } values ? values[^1] : null;
}
