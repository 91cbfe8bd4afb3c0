using Loadshift.Simulator;

return Cli.Build().Parse(args).Invoke();
