using Loadshift.Rebalancer.Inventory;
using Microsoft.Extensions.Options;

namespace Loadshift.Rebalancer.Execution;

/// <summary><see cref="IHypervisor"/> through the virsh client, one process per question.</summary>
internal sealed class VirshHypervisor(ICommandRunner runner, IOptions<LibvirtOptions> options, ILogger<VirshHypervisor> logger) : IHypervisor
{
    private readonly LibvirtOptions libvirt = options.Value;

    public async Task<IReadOnlyList<string>> ListRunningDomainsAsync(InventoryHost host, CancellationToken cancellationToken)
    {
        var result = await QueryAsync(host, ["list", "--name"], cancellationToken).ConfigureAwait(false);
        return Lines(result.Stdout);
    }

    public async Task<DomainPresence> GetDomainPresenceAsync(InventoryHost host, string domain, CancellationToken cancellationToken)
    {
        var all = await QueryAsync(host, ["list", "--all", "--name"], cancellationToken).ConfigureAwait(false);
        if (!Lines(all.Stdout).Contains(domain, StringComparer.Ordinal))
        {
            return DomainPresence.Absent;
        }
        var state = await QueryAsync(host, ["domstate", "--domain", domain], cancellationToken).ConfigureAwait(false);
        return new DomainPresence(true, state.Stdout.Trim());
    }

    public async Task<MigrationAttempt> MigrateAsync(string domain, InventoryHost source, InventoryHost target, TimeSpan timeout,
        IReadOnlyList<string> extraFlags, CancellationToken cancellationToken)
    {
        var command = MigrateCommand(libvirt.VirshPath, domain, source, target, extraFlags);
        var aborted = false;
        var result = await runner.RunAsync(command, timeout, cancellationToken, async ct =>
        {
            // Stop the migration job itself; killing the virsh client alone can leave it running on the source.
            aborted = true;
            var abort = await runner.RunAsync(DomJobAbortCommand(libvirt.VirshPath, domain, source), libvirt.QueryTimeout, ct).ConfigureAwait(false);
            if (!abort.Succeeded)
            {
                Log.JobAbortFailed(logger, domain, source.Name, abort.Stderr.Trim());
            }
        }).ConfigureAwait(false);
        return new MigrationAttempt(command.ToString(), result.ExitCode, result.Stderr, result.Duration, result.TimedOut, aborted);
    }

    /// <summary><c>virsh -c SRC migrate --live --persistent --undefinesource --verbose --domain DOMAIN --desturi DEST</c>:
    /// the definition moves with the domain, so exactly one host knows it afterwards. The domain's name always follows
    /// <c>--domain</c>, where virsh takes the next argument as the value even when it starts with "--" (a domain
    /// named "--p2p" is a name there, a flag in the positional form).</summary>
    internal static CommandSpec MigrateCommand(string virsh, string domain, InventoryHost source, InventoryHost target, IReadOnlyList<string> extraFlags) =>
        new(virsh, ["-c", source.LibvirtUri, "migrate", "--live", "--persistent", "--undefinesource", "--verbose",
            .. extraFlags, "--domain", domain, "--desturi", target.LibvirtUri]);

    internal static CommandSpec DomJobAbortCommand(string virsh, string domain, InventoryHost source) =>
        new(virsh, ["-c", source.LibvirtUri, "domjobabort", "--domain", domain]);

    private async Task<CommandResult> QueryAsync(InventoryHost host, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var command = new CommandSpec(libvirt.VirshPath, ["-c", host.LibvirtUri, .. arguments]);
        CommandResult result;
        try
        {
            result = await runner.RunAsync(command, libvirt.QueryTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (CommandFailedException e)
        {
            throw new HypervisorUnavailableException(host.Name, e.Message, e);
        }
        if (!result.Succeeded)
        {
            throw new HypervisorUnavailableException(host.Name,
                $"'{command}' {(result.TimedOut ? "timed out" : $"exited with {result.ExitCode}")}: {CommandFailedException.Tail(result.Stderr, 300)} " +
                $"Check that libvirtd listens at {host.LibvirtUri} (virsh -c {host.LibvirtUri} list).");
        }
        return result;
    }

    private static List<string> Lines(string text) =>
        [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
}
