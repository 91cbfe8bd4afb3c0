namespace Loadshift.Testing;

/// <summary>Journal files written by earlier releases (tests/Rebalancer.Tests/Fixtures/journal-v0/README.md says how
/// each was made). Opening one migrates it, so tests open a copy, never the checked-in file.</summary>
public static class JournalFixtures
{
    /// <summary>Schema version 0: written by release 3bbc5d8's own SqliteJournal.</summary>
    public static string V0 => Path.Combine(RepositoryRoot.Path, "tests", "Rebalancer.Tests", "Fixtures", "journal-v0", "journal.db");

    /// <summary>Copies the v0 journal into <paramref name="directory"/> as <paramref name="fileName"/>; returns its path.</summary>
    public static string CopyV0(string directory, string fileName = "journal.db")
    {
        var path = Path.Combine(directory, fileName);
        File.Copy(V0, path, overwrite: false);
        return path;
    }
}
