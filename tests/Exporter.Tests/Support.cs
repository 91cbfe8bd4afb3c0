using System.Diagnostics;

namespace Loadshift.Exporter.Tests;

internal static class Fixtures
{
    public static string Path(params string[] parts) =>
        System.IO.Path.Combine([AppContext.BaseDirectory, "Fixtures", .. parts]);

    public static string Read(params string[] parts) => File.ReadAllText(Path(parts));
}

/// <summary>A real program run with an argument list (never a shell string), for the cross-checks.</summary>
internal static class Tool
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>Runs a tool; when it is not installed, fails the test naming the Debian package that has it.</summary>
    public static async Task<Result> RunAsync(string file, string debianPackage, IEnumerable<string> args, string? stdin = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{file} is not installed (Debian package {debianPackage}): {e.Message}", e);
        }

        using (process)
        {
            if (stdin is not null)
            {
                await process.StandardInput.WriteAsync(stdin);
                process.StandardInput.Close();
            }

            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{file} {string.Join(' ', start.ArgumentList)} ran past its timeout");
            }

            return new Result(process.ExitCode, await stdout, await stderr);
        }
    }

    /// <summary>`promtool check metrics` on an exposition: the Prometheus project's own linter as judge.</summary>
    public static async Task AssertPromtoolAcceptsAsync(string exposition)
    {
        var result = await RunAsync("promtool", "prometheus", ["check", "metrics"], exposition);
        Assert.True(result.ExitCode == 0, $"promtool check metrics failed ({result.ExitCode}):\n{result.Stdout}{result.Stderr}");
        Assert.Equal("", result.Stdout + result.Stderr);
    }
}
