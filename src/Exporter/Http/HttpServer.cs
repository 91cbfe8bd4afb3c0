using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Loadshift.Exporter.Http;

/// <summary>The address could not be listened on; the message says why, for the operator.</summary>
internal sealed class ListenException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// A small HTTP/1.1 server on one listening socket: a task per connection, at most
/// <see cref="HttpLimits.MaxConnections"/> of them, each bounded by <see cref="HttpLimits"/>. It replaces ASP.NET
/// Core (Kestrel), whose framework held about a third of the exporter's resident memory (docs/benchmarks.md).
/// </summary>
internal sealed class HttpServer : IDisposable
{
    private const string BusyBody = "503 Service Unavailable: too many open connections\n";

    private static readonly byte[] s_busy = Encoding.ASCII.GetBytes(
        $"HTTP/1.1 503 Service Unavailable\r\nContent-Type: {HttpResponse.PlainText}\r\nContent-Length: {BusyBody.Length}\r\n" +
        $"Connection: close\r\n\r\n{BusyBody}");

    private readonly Socket _listener;
    private readonly HttpLimits _limits;
    private readonly RequestHandler _handler;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly HashSet<Task> _connections = [];

    private HttpServer(Socket listener, HttpLimits limits, RequestHandler handler, ILogger logger)
    {
        _listener = listener;
        _limits = limits;
        _handler = handler;
        _logger = logger;
    }

    /// <summary>Where it listens; with port 0, the port the system chose.</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)_listener.LocalEndPoint!;

    /// <summary>Listens on <paramref name="endpoint"/>. The IPv6 any address ("[::]", what ":PORT" means) takes
    /// IPv4 too (dual stack), or falls back to IPv4's alone on a host without IPv6.</summary>
    public static HttpServer Listen(IPEndPoint endpoint, HttpLimits limits, RequestHandler handler, ILogger logger)
    {
        Socket socket;
        try
        {
            socket = Bind(endpoint);
        }
        catch (SocketException e) when (endpoint.Address.Equals(IPAddress.IPv6Any) &&
                                        e.SocketErrorCode is SocketError.AddressFamilyNotSupported or SocketError.AddressNotAvailable)
        {
            socket = BindOrExplain(new IPEndPoint(IPAddress.Any, endpoint.Port));
        }
        catch (SocketException e)
        {
            throw Explain(endpoint, e);
        }

        return new HttpServer(socket, limits, handler, logger);
    }

    /// <summary>Accepts and answers until <paramref name="stopping"/>; then stops listening, lets the responses being
    /// sent finish (up to <see cref="HttpLimits.StopTimeout"/>) and closes idle connections.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (SocketException e)
            {
                // Out of file descriptors, or a connection reset before it was accepted: the next may succeed.
                Log.AcceptFailed(_logger, e.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(100), CancellationToken.None).ConfigureAwait(false);
                continue;
            }

            client.NoDelay = true;
            Task connection;
            lock (_gate)
            {
                if (_connections.Count >= _limits.MaxConnections)
                {
                    _ = RefuseAsync(client);
                    continue;
                }

                connection = Task.Run(new HttpConnection(client, _limits, _handler, _logger, stopping).RunAsync, CancellationToken.None);
                _connections.Add(connection);
            }

            _ = connection.ContinueWith(Forget, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        _listener.Dispose();
        Task[] open;
        lock (_gate)
        {
            open = [.. _connections];
        }

        await Task.WhenAll(open).WaitAsync(_limits.StopTimeout, CancellationToken.None)
            .ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default)
            .ConfigureAwait(false);
    }

    public void Dispose() => _listener.Dispose();

    private static Socket Bind(IPEndPoint endpoint)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endpoint.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            socket.Bind(endpoint);
            socket.Listen(512);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static Socket BindOrExplain(IPEndPoint endpoint)
    {
        try
        {
            return Bind(endpoint);
        }
        catch (SocketException e)
        {
            throw Explain(endpoint, e);
        }
    }

    private static ListenException Explain(IPEndPoint endpoint, SocketException e) => new(
        $"cannot listen on {endpoint}: " + e.SocketErrorCode switch
        {
            SocketError.AddressAlreadyInUse => "the port is in use (another exporter, or another program, listens on it)",
            SocketError.AccessDenied => "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)",
            SocketError.AddressNotAvailable => "no interface of this host has that address",
            _ => e.Message,
        },
        e);

    private void Forget(Task connection)
    {
        lock (_gate)
        {
            _connections.Remove(connection);
        }
    }

    /// <summary>Past the connection limit: a short 503, then close.</summary>
    private static async Task RefuseAsync(Socket client)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await client.SendAsync(s_busy, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            client.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            // It is refused either way.
        }
        finally
        {
            client.Dispose();
        }
    }
}
