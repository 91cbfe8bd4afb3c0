using Loadshift.Cli;

// loadshift VERB [options]: the Rebalancer's API from a terminal. Exit codes: ExitCodes.cs (and --help).
var parse = Commands.Build().Parse(args);
// [suggest:N] "LINE" is the completion scripts' question: a partial line has errors by nature.
var completing = args.Length > 0 && args[0].StartsWith("[suggest", StringComparison.Ordinal);
if (parse.Errors.Count > 0 && !completing)
{
    foreach (var error in parse.Errors)
    {
        Console.Error.WriteLine($"loadshift: {error.Message}");
    }
    Console.Error.WriteLine("loadshift --help lists the verbs and options");
    return ExitCodes.Usage;
}
return await parse.InvokeAsync();
