namespace Loadshift.Faults.Tests;

/// <summary>The Rebalancer's virsh (libvirt.virshPath) for the suite: the real virsh, except that once armed
/// (<see cref="ArmShutOff"/>) the next <c>virsh migrate</c> first destroys its domain on the source, then runs as
/// asked. That is scenario 5's "shut off between the decision and virsh" at the one instant it means, which a test
/// polling from outside cannot hit: the Rebalancer has decided and is starting virsh.</summary>
public sealed class VirshHook
{
    public VirshHook(string directory)
    {
        Directory.CreateDirectory(directory);
        Path = System.IO.Path.Combine(directory, "virsh");
        Trigger = System.IO.Path.Combine(directory, "shut-off-before-migrate");
        var virsh = Tool.Find("virsh");
        // Arguments as the Rebalancer gives them: -c SOURCE migrate ... --domain NAME --desturi TARGET.
        File.WriteAllText(Path, $$"""
            #!/bin/bash
            # Written by the fault suite (tests/Faults.Tests/VirshHook.cs): virsh, with scenario 5's shut-off when armed.
            set -euo pipefail
            if [[ ${3:-} == migrate ]] && rm "{{Trigger}}" 2>/dev/null; then
                args=("$@")
                for ((i = 0; i < ${#args[@]} - 1; i++)); do
                    if [[ ${args[i]} == --domain ]]; then
                        "{{virsh}}" -c "$2" destroy --domain "${args[i + 1]}" >&2
                    fi
                done
            fi
            exec "{{virsh}}" "$@"

            """);
        Tool.RunOk("chmod", ["700", Path]);
    }

    public string Path { get; }

    private string Trigger { get; }

    /// <summary>The next migration's domain is destroyed on its source just before virsh migrate starts.</summary>
    public void ArmShutOff() => File.WriteAllText(Trigger, "");

    /// <summary>Whether an armed shut-off has not happened yet.</summary>
    public bool Armed => File.Exists(Trigger);

    public void Disarm() => File.Delete(Trigger);
}
