using System.ComponentModel;
using System.Text;
using CliWrap;
using Loadshift.Rebalancer.Inventory;
using Microsoft.Extensions.Options;

namespace Loadshift.Rebalancer.Execution;

/// <summary><see cref="IHypervisor"/> through the virsh client (CliWrap), one process per question, arguments as
/// a list (never a shell string).</summary>
internal sealed class VirshHypervisor(IOptions<LibvirtOptions> options, TimeProvider time, ILogger<VirshHypervisor> logger) : IHypervisor
{
    private readonly LibvirtOptions libvirt = options.Value;

    /// <summary>How long virsh may take to exit after its deadline (domjobabort, then SIGINT) before it is killed:
    /// virsh needs a moment to notice the aborted job and clean up.</summary>
    internal TimeSpan KillGrace { get; init; } = TimeSpan.FromSeconds(15);

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
        var aborted = false;
        var run = await RunAsync(MigrateArguments(domain, source, target, extraFlags), timeout, cancellationToken, async ct =>
        {
            // Stop the migration job itself; stopping the virsh client alone can leave it running on the source.
            aborted = true;
            var abort = await RunAsync(DomJobAbortArguments(domain, source), libvirt.QueryTimeout, ct).ConfigureAwait(false);
            if (!abort.Succeeded)
            {
                Log.JobAbortFailed(logger, domain, source.Name, abort.Stderr.Trim());
            }
        }).ConfigureAwait(false);
        return new MigrationAttempt(run.CommandLine, run.ExitCode, run.Stderr, run.Duration, run.TimedOut, aborted);
    }

    public async Task<JobProgress?> GetJobProgressAsync(InventoryHost host, string domain, CancellationToken cancellationToken)
    {
        var result = await QueryAsync(host, ["domjobinfo", "--rawstats", "--domain", domain], cancellationToken).ConfigureAwait(false);
        return ParseJobInfo(result.Stdout);
    }

    /// <summary>virsh domjobinfo --rawstats: a "Job type: N" line, then one "field: value" (or "field=value") line per typed parameter
    /// (libvirt's VIR_DOMAIN_JOB_* names: data_total, data_processed, data_remaining, ...). Null when no job runs
    /// (type 0, VIR_DOMAIN_JOB_NONE, with no data fields).</summary>
    internal static JobProgress? ParseJobInfo(string stdout)
    {
        var fields = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in Lines(stdout))
        {
            var colon = line.IndexOfAny([':', '=']);
            if (colon > 0 && long.TryParse(line.AsSpan(colon + 1).Trim(), System.Globalization.NumberStyles.Integer,
                System.Globalization.CultureInfo.InvariantCulture, out var value))
            {
                fields[line[..colon].Trim()] = value;
            }
        }
        return fields.TryGetValue("data_total", out var total) && fields.TryGetValue("data_remaining", out var remaining)
            ? new JobProgress(total, remaining, fields.GetValueOrDefault("data_processed", total - remaining))
            : null;
    }

    /// <summary><c>virsh -c SRC migrate --live --persistent --undefinesource --verbose --domain DOMAIN --desturi DEST</c>:
    /// the definition moves with the domain, so exactly one host knows it afterwards. The domain's name always follows
    /// <c>--domain</c>, where virsh takes the next argument as the value even when it starts with "--" (a domain
    /// named "--p2p" is a name there, a flag in the positional form).</summary>
    internal static IReadOnlyList<string> MigrateArguments(string domain, InventoryHost source, InventoryHost target, IReadOnlyList<string> extraFlags) =>
        ["-c", source.LibvirtUri, "migrate", "--live", "--persistent", "--undefinesource", "--verbose",
            .. extraFlags, "--domain", domain, "--desturi", target.LibvirtUri];

    internal static IReadOnlyList<string> DomJobAbortArguments(string domain, InventoryHost source) =>
        ["-c", source.LibvirtUri, "domjobabort", "--domain", domain];

    private async Task<VirshRun> QueryAsync(InventoryHost host, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var whatToDo = $"Check that libvirtd listens at {host.LibvirtUri} (virsh -c {host.LibvirtUri} list).";
        VirshRun result;
        try
        {
            result = await RunAsync(["-c", host.LibvirtUri, .. arguments], libvirt.QueryTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (CommandFailedException e)
        {
            throw new HypervisorUnavailableException(host.Name, e.Message, e);
        }
        if (!result.Succeeded)
        {
            var failure = new CommandFailedException(result.CommandLine, result.ExitCode, result.Stderr,
                result.TimedOut ? $"No answer within libvirt.queryTimeout ({libvirt.QueryTimeout.TotalSeconds:0} s). {whatToDo}" : whatToDo);
            throw new HypervisorUnavailableException(host.Name, failure.Message, failure);
        }
        return result;
    }

    /// <summary>Runs virsh to its end or its deadline. On the deadline <paramref name="onDeadline"/> runs first (e.g.
    /// domjobabort, so the work stops cleanly), then virsh is asked to stop (CliWrap's graceful cancellation: SIGINT,
    /// on which virsh aborts the job it watches and exits) and killed after <see cref="KillGrace"/> (forceful).
    /// <paramref name="cancellationToken"/> kills it at once and throws. Throws <see cref="CommandFailedException"/>
    /// when virsh cannot be started.</summary>
    private async Task<VirshRun> RunAsync(IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellationToken,
        Func<CancellationToken, Task>? onDeadline = null)
    {
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var command = Cli.Wrap(libvirt.VirshPath)
            .WithArguments(arguments)
            // virsh prints localized messages otherwise; the journal and the tests want one language.
            .WithEnvironmentVariables(e => e.Set("LC_ALL", "C"))
            .WithValidation(CommandResultValidation.None)
            .WithStandardOutputPipe(PipeTarget.ToStringBuilder(stdout))
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(stderr));
        var commandLine = command.ToString();
        using var forceful = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var graceful = new CancellationTokenSource();
        var started = time.GetTimestamp();
        Task<CommandResult> run;
        try
        {
            run = command.ExecuteAsync(forceful.Token, graceful.Token);
        }
        catch (Win32Exception e)
        {
            throw new CommandFailedException(commandLine, null, e.Message, $"Is virsh installed? libvirt.virshPath is '{libvirt.VirshPath}'.", e);
        }

        var timedOut = false;
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            var expired = Task.Delay(timeout, time, deadline.Token);
            if (await Task.WhenAny(run, expired).ConfigureAwait(false) == expired && !cancellationToken.IsCancellationRequested)
            {
                timedOut = true;
                try
                {
                    if (onDeadline is not null)
                    {
                        await onDeadline(cancellationToken).ConfigureAwait(false);
                    }
                }
                finally
                {
                    await graceful.CancelAsync().ConfigureAwait(false);
                    forceful.CancelAfter(KillGrace);
                }
            }
            await deadline.CancelAsync().ConfigureAwait(false);
        }

        int exitCode;
        try
        {
            exitCode = (await run.ConfigureAwait(false)).ExitCode;
        }
        catch (OperationCanceledException) when (timedOut && !cancellationToken.IsCancellationRequested)
        {
            // Stopped at its deadline: no exit code of its own.
            exitCode = -1;
        }
        return new VirshRun(commandLine, exitCode, stdout.ToString(), stderr.ToString(), time.GetElapsedTime(started), timedOut);
    }

    private static List<string> Lines(string text) =>
        [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    /// <param name="TimedOut">The deadline passed (the exit code is -1 when virsh had to be stopped).</param>
    private sealed record VirshRun(string CommandLine, int ExitCode, string Stdout, string Stderr, TimeSpan Duration, bool TimedOut)
    {
        public bool Succeeded => ExitCode == 0 && !TimedOut;
    }
}
