namespace Loadshift.Simulator.Inputs;

/// <summary>Domain demand step by step: each call fills the CPU demand (cores) of every domain for the next step
/// and, where the trace has it, its memory. Steps are regular; a domain a step leaves out keeps its last demand.</summary>
public interface ITrace : IDisposable
{
    /// <summary>Fills the next step; false at the end. <paramref name="seconds"/>: from the trace's start.</summary>
    bool ReadStep(double[] cpuCores, long[] memoryBytes, out long seconds);

    /// <summary>How far the trace has been read, 0..1 (for the progress bar).</summary>
    double Progress { get; }
}
