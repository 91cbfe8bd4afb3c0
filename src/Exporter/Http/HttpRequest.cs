using System.Text;

namespace Loadshift.Exporter.Http;

/// <summary>What the exporter reads of a request: its line and the few headers that change the answer.</summary>
internal sealed record HttpRequest(string Method, string Path)
{
    /// <summary>HTTP/1.1 keeps the connection unless told "close"; HTTP/1.0 only when told "keep-alive".</summary>
    public bool KeepAlive { get; init; } = true;

    /// <summary>Accept-Encoding names gzip (or *) with a weight above zero.</summary>
    public bool AcceptsGzip { get; init; }

    /// <summary>X-Prometheus-Scrape-Timeout-Seconds as sent, if it was.</summary>
    public string? ScrapeTimeoutSeconds { get; init; }

    /// <summary>A Content-Length above zero or a Transfer-Encoding: the server reads no bodies, so it answers and
    /// closes the connection rather than read the body as the next request.</summary>
    public bool HasBody { get; init; }
}

/// <summary>An answer to give instead of a request: the head could not be read as HTTP/1.x.</summary>
internal sealed record RequestError(int Status, string Reason);

/// <summary>RFC 9112's message head, parsed strictly: what is not plainly a request is answered 400 and the
/// connection closed, since the server cannot know where the next request would start.</summary>
internal static class RequestParser
{
    /// <summary>The length of the head in <paramref name="data"/> up to and including its empty line, or -1 when
    /// it has not all arrived. Lines end in CRLF or, as RFC 9112 allows a server to accept, a bare LF.</summary>
    public static int FindHeadEnd(ReadOnlySpan<byte> data, int from = 0)
    {
        for (var i = data[from..].IndexOf((byte)'\n'); i >= 0;)
        {
            var lf = from + i;
            var next = lf + 1;
            if (next < data.Length && data[next] == '\n')
            {
                return next + 1;
            }

            if (next + 1 < data.Length && data[next] == '\r' && data[next + 1] == '\n')
            {
                return next + 2;
            }

            from = next;
            i = data[from..].IndexOf((byte)'\n');
        }

        return -1;
    }

    /// <summary>Parses a head found by <see cref="FindHeadEnd"/>; null with <paramref name="error"/> set when it is
    /// not a request this server will answer.</summary>
    public static HttpRequest? Parse(ReadOnlySpan<byte> head, out RequestError? error)
    {
        error = null;
        var end = head.IndexOf((byte)'\n');
        var requestLine = TrimCr(head[..end]);
        var rest = head[(end + 1)..];

        var firstSpace = requestLine.IndexOf((byte)' ');
        var lastSpace = requestLine.LastIndexOf((byte)' ');
        if (firstSpace <= 0 || lastSpace == firstSpace || requestLine[(firstSpace + 1)..lastSpace].Contains((byte)' '))
        {
            error = new RequestError(400, "the request line is not METHOD TARGET HTTP-VERSION");
            return null;
        }

        var method = requestLine[..firstSpace];
        var target = requestLine[(firstSpace + 1)..lastSpace];
        var version = requestLine[(lastSpace + 1)..];
        if (!IsToken(method))
        {
            error = new RequestError(400, "the method is not a token");
            return null;
        }

        bool http10;
        if (version.SequenceEqual("HTTP/1.1"u8))
        {
            http10 = false;
        }
        else if (version.SequenceEqual("HTTP/1.0"u8))
        {
            http10 = true;
        }
        else if (version.Length == 8 && version.StartsWith("HTTP/"u8) && char.IsAsciiDigit((char)version[5]) &&
                 version[6] == '.' && char.IsAsciiDigit((char)version[7]))
        {
            error = new RequestError(505, "only HTTP/1.0 and HTTP/1.1 are served");
            return null;
        }
        else
        {
            error = new RequestError(400, "the request line does not end in an HTTP version");
            return null;
        }

        var path = Path(target);
        if (path is null)
        {
            error = new RequestError(400, "the request target is not a path");
            return null;
        }

        bool? keepAlive = null;
        var acceptsGzip = false;
        string? scrapeTimeout = null;
        var hasBody = false;
        while (!rest.IsEmpty)
        {
            end = rest.IndexOf((byte)'\n');
            var line = TrimCr(rest[..end]);
            rest = rest[(end + 1)..];
            if (line.IsEmpty)
            {
                break; // the empty line that ends the head
            }

            var colon = line.IndexOf((byte)':');
            if (colon <= 0 || !IsToken(line[..colon]))
            {
                // Also a line that starts with a space: the obsolete line folding, which RFC 9112 lets a server refuse.
                error = new RequestError(400, "a header line is not NAME: VALUE");
                return null;
            }

            var name = line[..colon];
            var value = line[(colon + 1)..].Trim(" \t"u8);
            if (value.ContainsAnyInRange((byte)0, (byte)8) || value.ContainsAnyInRange((byte)10, (byte)31) || value.Contains((byte)127))
            {
                error = new RequestError(400, "a header value holds a control character");
                return null;
            }

            if (Ascii.EqualsIgnoreCase(name, "Connection"u8))
            {
                foreach (var option in Encoding.Latin1.GetString(value).Split(',', StringSplitOptions.TrimEntries))
                {
                    if (option.Equals("close", StringComparison.OrdinalIgnoreCase))
                    {
                        keepAlive = false;
                    }
                    else if (option.Equals("keep-alive", StringComparison.OrdinalIgnoreCase))
                    {
                        keepAlive ??= true;
                    }
                }
            }
            else if (Ascii.EqualsIgnoreCase(name, "Accept-Encoding"u8))
            {
                acceptsGzip |= AcceptsGzip(Encoding.Latin1.GetString(value));
            }
            else if (Ascii.EqualsIgnoreCase(name, "X-Prometheus-Scrape-Timeout-Seconds"u8))
            {
                scrapeTimeout = Encoding.Latin1.GetString(value);
            }
            else if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
            {
                if (!ulong.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var length))
                {
                    error = new RequestError(400, "Content-Length is not a number");
                    return null;
                }

                hasBody |= length > 0;
            }
            else if (Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8))
            {
                hasBody = true;
            }
        }

        return new HttpRequest(Encoding.Latin1.GetString(method), path)
        {
            KeepAlive = keepAlive ?? !http10,
            AcceptsGzip = acceptsGzip,
            ScrapeTimeoutSeconds = scrapeTimeout,
            HasBody = hasBody,
        };
    }

    /// <summary>"gzip", "gzip;q=0.8", "*": yes; "gzip;q=0", "identity": no.</summary>
    internal static bool AcceptsGzip(string acceptEncoding)
    {
        var gzip = false;
        var star = false;
        var gzipNamed = false;
        foreach (var item in acceptEncoding.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = item.Split(';', StringSplitOptions.TrimEntries);
            var weight = 1.0;
            foreach (var parameter in parts.AsSpan(1))
            {
                if (parameter.StartsWith("q=", StringComparison.OrdinalIgnoreCase) &&
                    double.TryParse(parameter.AsSpan(2), System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture, out var q))
                {
                    weight = q;
                }
            }

            if (parts[0].Equals("gzip", StringComparison.OrdinalIgnoreCase) || parts[0].Equals("x-gzip", StringComparison.OrdinalIgnoreCase))
            {
                gzipNamed = true;
                gzip |= weight > 0;
            }
            else if (parts[0] == "*")
            {
                star = weight > 0;
            }
        }

        return gzip || (star && !gzipNamed);
    }

    /// <summary>The path of an origin-form target ("/metrics?x"), or of an absolute-form one
    /// ("http://host:10179/metrics"), which RFC 9112 says a server must accept; null for anything else.</summary>
    private static string? Path(ReadOnlySpan<byte> target)
    {
        if (target.ContainsAnyInRange((byte)0, (byte)32) || target.Contains((byte)127))
        {
            return null;
        }

        if (target.StartsWith("http://"u8) || target.StartsWith("https://"u8))
        {
            var authority = target[(target.IndexOf("//"u8) + 2)..];
            var slash = authority.IndexOfAny((byte)'/', (byte)'?');
            target = slash < 0 ? "/"u8 : authority[slash] == '/' ? authority[slash..] : "/"u8;
        }

        if (target.IsEmpty || target[0] != '/')
        {
            return null;
        }

        var query = target.IndexOfAny((byte)'?', (byte)'#');
        return Encoding.Latin1.GetString(query < 0 ? target : target[..query]);
    }

    private static ReadOnlySpan<byte> TrimCr(ReadOnlySpan<byte> line) => line.EndsWith("\r"u8) ? line[..^1] : line;

    /// <summary>RFC 9110's token: visible ASCII except the delimiters "(),/:;&lt;=&gt;?@[\]{}.</summary>
    private static bool IsToken(ReadOnlySpan<byte> s)
    {
        if (s.IsEmpty)
        {
            return false;
        }

        foreach (var b in s)
        {
            if (b <= 32 || b >= 127 || "\"(),/:;<=>?@[\\]{}"u8.Contains(b))
            {
                return false;
            }
        }

        return true;
    }
}
