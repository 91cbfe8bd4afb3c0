using System.Runtime.InteropServices;
using System.Text;

namespace Loadshift.Exporter.Libvirt;

/// <summary>
/// Domain stats from libvirt over one persistent read-only connection: one virConnectGetAllDomainStats per call,
/// for the stats groups asked, values copied out, then the list freed. The native call runs on its own thread; a
/// caller waits for it only until its deadline. A call that outlives its deadline is not abandoned but shared:
/// later callers wait on the same call instead of piling up threads on a hung libvirtd, and one that asks for
/// groups the running call does not cover gets its own call once that one has ended (never two at once).
/// </summary>
internal sealed class LibvirtStatsSource : IDomainStatsSource, IDisposable
{
    private static readonly Lock s_errorHandlerGate = new();
    private static bool s_errorHandlerInstalled;

    private readonly string _uri;
    private readonly FieldNames _fieldNames = new();
    private readonly Lock _gate = new();
    private Task<IReadOnlyList<DomainStatsRecord>>? _inFlight;
    private StatsGroups _inFlightGroups;
    private nint _connection;
    private bool _disposed;

    public LibvirtStatsSource(string uri) => _uri = uri;

    /// <summary>Times the connection was (re)opened: 1 after the first collection, more after reconnects.</summary>
    public int Connects { get; private set; }

    public Task<IReadOnlyList<DomainStatsRecord>> GetAllDomainStatsAsync(
        StatsGroups groups, TimeSpan deadline, CancellationToken cancellationToken)
    {
        Task<IReadOnlyList<DomainStatsRecord>> call;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_inFlight is null || _inFlight.IsCompleted)
            {
                _inFlight = Task.Factory.StartNew<IReadOnlyList<DomainStatsRecord>>(
                    () => Collect(groups), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
                _inFlightGroups = groups;
            }
            else if ((_inFlightGroups & groups) != groups)
            {
                // After the running call, whatever it gives: libvirt's connection and the field names are used by
                // one call at a time.
                _inFlight = _inFlight.ContinueWith<IReadOnlyList<DomainStatsRecord>>(
                    _ => Collect(groups), CancellationToken.None, TaskContinuationOptions.LongRunning, TaskScheduler.Default);
                _inFlightGroups = groups;
            }

            call = _inFlight;
        }

        return WaitAsync(call, deadline, cancellationToken);
    }

    private async Task<IReadOnlyList<DomainStatsRecord>> WaitAsync(
        Task<IReadOnlyList<DomainStatsRecord>> call, TimeSpan deadline, CancellationToken cancellationToken)
    {
        try
        {
            return await call.WaitAsync(deadline, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new LibvirtException(
                $"libvirt at {_uri} did not return domain stats within {deadline.TotalSeconds:0.###} s; " +
                "the call goes on in the background and the next scrape waits for it");
        }
    }

    /// <summary>Runs on the call's own thread: libvirt's last error is per thread, so it is read here too.</summary>
    private unsafe List<DomainStatsRecord> Collect(StatsGroups groups)
    {
        InstallErrorHandler();
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
        }

        var connection = Connect();
        VirDomainStatsRecord** records;
        var count = NativeMethods.virConnectGetAllDomainStats(connection, groups, out records, NativeMethods.GetAllDomainsStatsNowait);
        if (count < 0)
        {
            var error = LastError("virConnectGetAllDomainStats");
            if (NativeMethods.virConnectIsAlive(connection) != 1)
            {
                Disconnect();
            }

            throw error;
        }

        try
        {
            var result = new List<DomainStatsRecord>(count);
            for (var i = 0; i < count; i++)
            {
                result.Add(CopyRecord(records[i]));
            }

            return result;
        }
        finally
        {
            NativeMethods.virDomainStatsRecordListFree(records);
        }
    }

    private unsafe DomainStatsRecord CopyRecord(VirDomainStatsRecord* record)
    {
        var name = Marshal.PtrToStringUTF8(NativeMethods.virDomainGetName(record->Domain)) ?? "";
        var uuidBuffer = stackalloc byte[NativeMethods.UuidStringLength];
        var uuid = NativeMethods.virDomainGetUUIDString(record->Domain, uuidBuffer) == 0
            ? Encoding.ASCII.GetString(uuidBuffer, NativeMethods.UuidStringLength - 1)
            : "";

        var stats = new KeyValuePair<string, StatValue>[record->NParams];
        for (var p = 0; p < record->NParams; p++)
        {
            var param = &record->Params[p];
            stats[p] = new(_fieldNames.Get(new ReadOnlySpan<byte>(param->Field, VirTypedParameter.FieldLength)), ReadValue(param));
        }

        return new DomainStatsRecord(name, uuid, stats);
    }

    private static unsafe StatValue ReadValue(VirTypedParameter* param) => (VirTypedParameterType)param->Type switch
    {
        VirTypedParameterType.Int => StatValue.Of(param->Int),
        VirTypedParameterType.UInt => StatValue.Of(param->UInt),
        VirTypedParameterType.LLong => StatValue.Of(param->LLong),
        VirTypedParameterType.ULLong => StatValue.Of(param->ULLong),
        VirTypedParameterType.Double => StatValue.Of(param->Double),
        VirTypedParameterType.Boolean => StatValue.Of(param->Boolean != 0 ? 1 : 0),
        VirTypedParameterType.String => StatValue.Of(Marshal.PtrToStringUTF8(param->String) ?? ""),
        _ => StatValue.Of(double.NaN),
    };

    /// <summary>The open connection, reopened when virConnectIsAlive says the old one is gone.</summary>
    private nint Connect()
    {
        if (_connection != 0 && NativeMethods.virConnectIsAlive(_connection) == 1)
        {
            return _connection;
        }

        Disconnect();
        var connection = NativeMethods.virConnectOpenReadOnly(_uri);
        if (connection == 0)
        {
            throw LastError($"virConnectOpenReadOnly({_uri})");
        }

        _connection = connection;
        Connects++;
        return connection;
    }

    private void Disconnect()
    {
        if (_connection != 0)
        {
            _ = NativeMethods.virConnectClose(_connection);
            _connection = 0;
        }
    }

    private static unsafe LibvirtException LastError(string operation)
    {
        var error = NativeMethods.virGetLastError();
        if (error is null)
        {
            return new LibvirtException(operation, "failed without an error from libvirt", 0, 0);
        }

        var message = Marshal.PtrToStringUTF8(error->Message) ?? "no message";
        var exception = new LibvirtException(operation, message, error->Code, error->Domain);
        NativeMethods.virResetLastError();
        return exception;
    }

    private static unsafe void InstallErrorHandler()
    {
        lock (s_errorHandlerGate)
        {
            if (!s_errorHandlerInstalled)
            {
                NativeMethods.virSetErrorFunc(0, &NativeMethods.IgnoreError);
                s_errorHandlerInstalled = true;
            }
        }
    }

    public void Dispose()
    {
        Task? inFlight;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            inFlight = _inFlight;
        }

        // Closing the connection under a running call would free what it uses; a hung call keeps it open.
        var finished = inFlight is null ||
                       Task.WhenAny(inFlight, Task.Delay(TimeSpan.FromSeconds(1))).GetAwaiter().GetResult() == inFlight;
        if (finished)
        {
            Disconnect();
        }
    }
}
