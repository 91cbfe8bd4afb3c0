using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Loadshift.Exporter.Libvirt;

/// <summary>The few entry points of libvirt.so.0 the exporter needs, bound by source-generated P/Invoke.</summary>
internal static unsafe partial class NativeMethods
{
    private const string Library = "libvirt.so.0";

    // virConnectGetAllDomainStatsFlags, libvirt-domain.h (libvirt 9.0); the stats groups are StatsGroups.

    /// <summary>Report what can be had without waiting for a domain job (e.g. a migration) to release it.</summary>
    public const uint GetAllDomainsStatsNowait = 1U << 29;

    /// <summary>VIR_UUID_STRING_BUFLEN, libvirt-host.h: 36 characters and a NUL.</summary>
    public const int UuidStringLength = 37;

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint virConnectOpenReadOnly(string? name);

    [LibraryImport(Library)]
    public static partial int virConnectClose(nint connection);

    [LibraryImport(Library)]
    public static partial int virConnectIsAlive(nint connection);

    [LibraryImport(Library)]
    public static partial int virConnectGetAllDomainStats(nint connection, StatsGroups stats, out VirDomainStatsRecord** records, uint flags);

    [LibraryImport(Library)]
    public static partial void virDomainStatsRecordListFree(VirDomainStatsRecord** records);

    [LibraryImport(Library)]
    public static partial nint virDomainGetName(nint domain);

    [LibraryImport(Library)]
    public static partial int virDomainGetUUIDString(nint domain, byte* buffer);

    [LibraryImport(Library)]
    public static partial void virSetErrorFunc(nint userData, delegate* unmanaged[Cdecl]<nint, nint, void> handler);

    [LibraryImport(Library)]
    public static partial VirError* virGetLastError();

    [LibraryImport(Library)]
    public static partial void virResetLastError();

    /// <summary>Installed as libvirt's error handler so that libvirt never prints to stderr; errors are read back
    /// with virGetLastError and turned into exceptions instead.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    public static void IgnoreError(nint userData, nint error)
    {
    }
}

/// <summary>virTypedParameter: 96 bytes on x86-64 (80-byte name, int type at 80, value union at 88).</summary>
[StructLayout(LayoutKind.Explicit, Size = 96)]
internal unsafe struct VirTypedParameter
{
    public const int FieldLength = 80;

    [FieldOffset(0)]
    public fixed byte Field[FieldLength];

    [FieldOffset(80)]
    public int Type;

    [FieldOffset(88)]
    public int Int;

    [FieldOffset(88)]
    public uint UInt;

    [FieldOffset(88)]
    public long LLong;

    [FieldOffset(88)]
    public ulong ULLong;

    [FieldOffset(88)]
    public double Double;

    [FieldOffset(88)]
    public byte Boolean;

    [FieldOffset(88)]
    public nint String;
}

/// <summary>virDomainStatsRecord: 24 bytes (domain, params, nparams).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VirDomainStatsRecord
{
    public nint Domain;
    public VirTypedParameter* Params;
    public int NParams;
}

/// <summary>The head of virError (virterror.h): code, domain, message.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct VirError
{
    public int Code;
    public int Domain;
    public nint Message;
}

/// <summary>virTypedParameterType, libvirt-common.h.</summary>
internal enum VirTypedParameterType
{
    Int = 1,
    UInt = 2,
    LLong = 3,
    ULLong = 4,
    Double = 5,
    Boolean = 6,
    String = 7,
}
