namespace Loadshift.Rebalancer;

/// <summary>The command line: <c>--config &lt;inventory.yaml&gt; [--dry-run]</c>; anything else goes on to
/// ASP.NET Core's configuration (e.g. <c>--urls</c>, <c>--policy:returnHomeAfter=30s</c>).</summary>
internal sealed record StartupArguments(string? ConfigPath, bool DryRun, string[] Rest)
{
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
            usage = $"loadshift-rebalancer: {e.Message}{Environment.NewLine}usage: loadshift-rebalancer --config <inventory.yaml> [--dry-run] [--urls <url>] [--<section>:<key>=<value>]";
            return false;
        }
    }

    public static StartupArguments Parse(string[] args)
    {
        string? config = null;
        var dryRun = false;
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
            else
            {
                rest.Add(arg);
            }
        }
        return new StartupArguments(config, dryRun, [.. rest]);
    }
}
