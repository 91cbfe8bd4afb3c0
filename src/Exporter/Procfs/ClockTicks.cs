using System.Runtime.InteropServices;

namespace Loadshift.Exporter.Procfs;

/// <summary>USER_HZ, the unit of /proc/stat's CPU columns, asked of the C library rather than assumed to be 100.</summary>
internal static partial class ClockTicks
{
    /// <summary>_SC_CLK_TCK in glibc's bits/confname.h.</summary>
    private const int ScClkTck = 2;

    public static long UserHz { get; } = Read();

    private static long Read()
    {
        var hz = sysconf(ScClkTck);
        return hz > 0 ? hz : throw new InvalidOperationException("sysconf(_SC_CLK_TCK) gave no clock tick rate");
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial long sysconf(int name);
}
