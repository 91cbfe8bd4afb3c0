using BenchmarkDotNet.Running;

// dotnet run -c Release --project tests/Rebalancer.Benchmarks -- --filter '*' [--job short]
BenchmarkSwitcher.FromAssembly(typeof(Loadshift.Rebalancer.Benchmarks.PlannerBenchmarks).Assembly).Run(args);
