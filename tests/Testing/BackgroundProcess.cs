using System.Diagnostics;
using System.Text;

namespace Loadshift.Testing;

/// <summary>A long-running program of a test (Prometheus, the blackbox exporter, lab/load): started with an argument list, its output
/// kept for the failure message, killed on dispose.</summary>
public sealed class BackgroundProcess : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();

    public BackgroundProcess(string program, IEnumerable<string> arguments, string workingDirectory)
    {
        var startInfo = new ProcessStartInfo(program.Contains('/', StringComparison.Ordinal) ? program : Tool.Find(program))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        Name = Path.GetFileName(program);
        process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Name { get; }

    public bool HasExited => process.HasExited;

    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    public void Dispose()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // It has exited meanwhile.
        }

        process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }
}
