namespace Loadshift.Rebalancer;

/// <summary>The command line: <c>--config &lt;inventory.yaml&gt; [--dry-run]</c>; configuration keys go on to
/// ASP.NET Core's configuration (e.g. <c>--urls</c>, <c>--policy:returnHomeAfter=30s</c>). Anything else is refused,
/// so that a mistyped flag (<c>--dryrun</c>) stops the start instead of being ignored.</summary>
internal sealed record StartupArguments(string? ConfigPath, bool DryRun, string[] Rest, bool Help = false)
{
    public const string Usage = """
        usage: loadshift-rebalancer --config <inventory.yaml> [--dry-run] [--urls <url>] [--<section>:<key>=<value>]

          --config PATH, -c PATH     the inventory (docs/rebalancer.md, "The inventory")
          --dry-run                  plan and journal, never migrate (policy.dryRun)
          --urls URL                 where to listen, instead of the inventory's listen
          --SECTION:KEY=VALUE        any inventory key, e.g. --policy:returnHomeAfter=30s (also --SECTION:KEY VALUE)
          -h, --help                 print this help and exit (after checking the other arguments)
        """;

    /// <summary>Configuration keys without a section that the command line may set: the inventory's listen,
    /// ASP.NET Core's urls, and the host's own (WebApplicationFactory passes environment, contentRoot and
    /// applicationName). Every other key has a section, hence a colon.</summary>
    private static readonly HashSet<string> TopLevelKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        "listen", "urls", "environment", "contentRoot", "applicationName",
    };

    /// <summary>Parses, or says what is wrong in <paramref name="usage"/>.</summary>
    public static bool TryParse(string[] args, out StartupArguments arguments, out string usage)
    {
        try
        {
            arguments = Parse(args);
            usage = "";
            return true;
        }
        catch (ArgumentException e)
        {
            arguments = new StartupArguments(null, false, []);
            usage = $"loadshift-rebalancer: {e.Message}{Environment.NewLine}{Usage}";
            return false;
        }
    }

    public static StartupArguments Parse(string[] args)
    {
        string? config = null;
        var dryRun = false;
        var help = false;
        var rest = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg is "--config" or "-c")
            {
                if (i + 1 >= args.Length)
                {
                    throw new ArgumentException("--config needs a path: --config <inventory.yaml>");
                }
                config = args[++i];
            }
            else if (arg.StartsWith("--config=", StringComparison.Ordinal))
            {
                config = arg["--config=".Length..];
            }
            else if (arg == "--dry-run")
            {
                dryRun = true;
            }
            else if (arg is "--help" or "-h")
            {
                help = true;
            }
            else if (arg.StartsWith("--", StringComparison.Ordinal) && arg.Length > 2)
            {
                var equals = arg.IndexOf('=', StringComparison.Ordinal);
                var key = equals < 0 ? arg[2..] : arg[2..equals];
                if (!key.Contains(':', StringComparison.Ordinal) && !TopLevelKeys.Contains(key))
                {
                    throw new ArgumentException($"unknown flag {arg}: the flags are --config and --dry-run; a configuration key is --<section>:<key>=<value>");
                }
                rest.Add(arg);
                // As ASP.NET Core's command-line configuration reads it: without '=', the next argument is the value.
                if (equals < 0)
                {
                    if (i + 1 >= args.Length)
                    {
                        throw new ArgumentException($"{arg} needs a value: {arg}=<value> or {arg} <value>");
                    }
                    rest.Add(args[++i]);
                }
            }
            else
            {
                throw new ArgumentException($"unexpected argument '{arg}'");
            }
        }
        return new StartupArguments(config, dryRun, [.. rest], help);
    }
}
