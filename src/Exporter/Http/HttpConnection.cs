using System.Buffers;
using System.Net.Sockets;

namespace Loadshift.Exporter.Http;

/// <summary>Answers a request with the whole response; the server's one application.</summary>
internal delegate Task<HttpResponse> RequestHandler(HttpRequest request);

/// <summary>One client connection: requests read one after the other (kept alive, pipelined requests in order),
/// each within <see cref="HttpLimits"/>. Whatever the client does, only this connection waits for it.</summary>
internal sealed class HttpConnection(Socket socket, HttpLimits limits, RequestHandler handler, ILogger logger, CancellationToken stopping)
{
    private readonly byte[] _buffer = ArrayPool<byte>.Shared.Rent(limits.MaxHeadBytes);
    private int _filled;

    public async Task RunAsync()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        try
        {
            var first = true;
            while (true)
            {
                var (headLength, error) = await ReadHeadAsync(first, timeout).ConfigureAwait(false);
                first = false;
                if (headLength == 0 && error is null)
                {
                    return; // the client closed, went idle too long, or the server stops
                }

                HttpRequest? request = null;
                if (error is null)
                {
                    request = RequestParser.Parse(_buffer.AsSpan(0, headLength), out error);
                }

                if (request is null)
                {
                    Log.RequestRefused(logger, error!.Status, error.Reason);
                    await SendAsync(HttpResponse.Text(error.Status, $"{error.Status} {HttpResponse.ReasonPhrase(error.Status)}: {error.Reason}\n"),
                        gzip: false, head: false, keepAlive: false).ConfigureAwait(false);
                    await LingerAsync().ConfigureAwait(false);
                    return;
                }

                var response = await AnswerAsync(request).ConfigureAwait(false);
                var keepAlive = request.KeepAlive && !request.HasBody && response.Status != 500 && !stopping.IsCancellationRequested;
                await SendAsync(response, request.AcceptsGzip, request.Method == "HEAD", keepAlive).ConfigureAwait(false);
                if (!keepAlive)
                {
                    await LingerAsync().ConfigureAwait(false);
                    return;
                }

                // What came after the head is the start of the next request (pipelining).
                _buffer.AsSpan(headLength, _filled - headLength).CopyTo(_buffer);
                _filled -= headLength;
            }
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away (also in the middle of a response) or took too long: only its connection ends.
        }
        finally
        {
            socket.Dispose();
            ArrayPool<byte>.Shared.Return(_buffer);
        }
    }

    /// <summary>Reads until the buffer holds a whole head. (0, null) when there is none to answer: the client
    /// closed or stayed idle past <see cref="HttpLimits.IdleTimeout"/>, or the server stops.</summary>
    private async Task<(int HeadLength, RequestError? Error)> ReadHeadAsync(bool first, CancellationTokenSource timeout)
    {
        // A new connection gets HeadTimeout for its first request; a kept-alive one IdleTimeout until the next
        // request starts, then HeadTimeout for the rest of its head.
        var started = first;
        timeout.CancelAfter(first ? limits.HeadTimeout : limits.IdleTimeout);
        var scanned = 0;
        while (true)
        {
            // RFC 9112 2.2: empty lines before a request line are ignored.
            var blank = _buffer.AsSpan(0, _filled).IndexOfAnyExcept("\r\n"u8);
            if (blank != 0)
            {
                blank = blank < 0 ? _filled : blank;
                _buffer.AsSpan(blank, _filled - blank).CopyTo(_buffer);
                _filled -= blank;
            }

            if (_filled > 0 && !started)
            {
                started = true;
                timeout.CancelAfter(limits.HeadTimeout);
            }

            var lineEnd = _buffer.AsSpan(0, _filled).IndexOf((byte)'\n');
            if ((lineEnd < 0 ? _filled : lineEnd) > limits.MaxRequestLineBytes)
            {
                return (0, new RequestError(414, $"the request line is longer than {limits.MaxRequestLineBytes} bytes"));
            }

            var end = RequestParser.FindHeadEnd(_buffer.AsSpan(0, _filled), Math.Max(0, scanned - 2));
            if (end > 0)
            {
                timeout.CancelAfter(Timeout.InfiniteTimeSpan);
                return (end, null);
            }

            scanned = _filled;

            if (_filled >= limits.MaxHeadBytes)
            {
                return (0, new RequestError(431, $"the request line and headers are longer than {limits.MaxHeadBytes} bytes"));
            }

            int read;
            try
            {
                read = await socket.ReceiveAsync(_buffer.AsMemory(_filled, limits.MaxHeadBytes - _filled), SocketFlags.None, timeout.Token)
                    .ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!stopping.IsCancellationRequested && _filled > 0)
            {
                return (0, new RequestError(408, $"the request's head took longer than {limits.HeadTimeout.TotalSeconds:0.#} s"));
            }
            catch (OperationCanceledException)
            {
                return (0, null);
            }

            if (read == 0)
            {
                return (0, null);
            }

            _filled += read;
        }
    }

    private async Task<HttpResponse> AnswerAsync(HttpRequest request)
    {
        try
        {
            return await handler(request).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Any failure of the handler is the server's fault, answered 500; the connection goes on living.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.RequestFailed(logger, request.Method, request.Path, e.Message);
            return HttpResponse.Text(500, "500 Internal Server Error\n");
        }
    }

    private async Task SendAsync(HttpResponse response, bool gzip, bool head, bool keepAlive)
    {
        var (headBytes, body) = response.Encode(gzip, keepAlive);
        // Its own timer, not linked to the stop: a stop lets the response being sent finish.
        using var sendTimeout = new CancellationTokenSource(limits.SendTimeout);
        await socket.SendAsync(headBytes, SocketFlags.None, sendTimeout.Token).ConfigureAwait(false);
        if (!head && !body.IsEmpty)
        {
            await socket.SendAsync(body, SocketFlags.None, sendTimeout.Token).ConfigureAwait(false);
        }
    }

    /// <summary>Closes the sending side and reads what the client still sends (a body, the rest of oversized
    /// headers) for up to a second: closing with unread data would reset the connection, and the client could lose
    /// the answer that says why it is closed.</summary>
    private async Task LingerAsync()
    {
        socket.Shutdown(SocketShutdown.Send);
        using var linger = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        for (var drained = 0; drained < 1024 * 1024;)
        {
            var read = await socket.ReceiveAsync(_buffer, SocketFlags.None, linger.Token).ConfigureAwait(false);
            if (read == 0)
            {
                return;
            }

            drained += read;
        }
    }
}
