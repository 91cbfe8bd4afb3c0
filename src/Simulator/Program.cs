using Loadshift.Simulator;

// Exit codes: 0 done, 1 bad input (the message names the file and line), 2 bad command line.
var parse = Cli.Build().Parse(args);
if (parse.Errors.Count > 0)
{
    foreach (var error in parse.Errors)
    {
        Console.Error.WriteLine($"loadshift-sim: {error.Message}");
    }
    Console.Error.WriteLine("loadshift-sim --help lists the options");
    return 2;
}
return parse.Invoke();
