namespace Loadshift.Testing;

/// <summary>The lab the Lab tests run against: the one lab/up brought up in this checkout (its lab/.state), or the
/// state file LOADSHIFT_LAB_STATE names (a lab brought up from another checkout).</summary>
public static class RunningLab
{
    public static string StateFile =>
        Environment.GetEnvironmentVariable("LOADSHIFT_LAB_STATE") is { Length: > 0 } file ? file : LabState.FileIn(RepositoryRoot.Path);

    /// <summary>Its state; a lab that is not up fails the calling test (never skips it), saying to run lab/up.</summary>
    public static LabState Read() => LabState.Read(StateFile);
}
