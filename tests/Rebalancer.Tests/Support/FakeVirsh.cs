namespace Loadshift.Rebalancer.Tests.Support;

/// <summary>A shell script standing in for virsh below <see cref="Execution.IHypervisor"/>: a real process that
/// logs each call's arguments and answers as the test says, for what the lab cannot show on demand (a hung
/// migration, a libvirtd that refuses).</summary>
internal sealed class FakeVirsh : IDisposable
{
    private readonly TempDirectory directory = new();

    /// <param name="answers">Cases of a <c>case "$sub" in</c> over the subcommand (migrate, domjobabort, list,
    /// domstate), e.g. <c>list) echo vm1 ;;</c>; a subcommand without a case exits 0 silently.</param>
    public FakeVirsh(string answers)
    {
        Path = directory.Combine("virsh");
        // The subcommand follows "-c URI"; every call is one line of the log, its arguments separated by tabs.
        File.WriteAllText(Path, $$"""
            #!/bin/sh
            printf '%s\t' "$@" >> "{{directory.Combine("calls")}}"
            echo >> "{{directory.Combine("calls")}}"
            sub=$3
            case "$sub" in
            {{answers}}
            esac
            """.Replace("\r\n", "\n", StringComparison.Ordinal));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    public string Path { get; }

    /// <summary>The argument lists virsh was called with, in order.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Calls =>
        File.Exists(directory.Combine("calls"))
            ? [.. File.ReadAllLines(directory.Combine("calls")).Select(l => l.Split('\t')[..^1])]
            : [];

    public void Dispose() => directory.Dispose();
}
