using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace Loadshift.Exporter.Http;

/// <summary>A whole answer: the exporter's bodies are small and built before the first byte is sent.</summary>
internal sealed record HttpResponse(int Status, string ContentType, ReadOnlyMemory<byte> Body)
{
    public const string PlainText = "text/plain; charset=utf-8";

    /// <summary>For 405: the methods the path answers.</summary>
    public string? Allow { get; init; }

    public static HttpResponse Text(int status, string text) => new(status, PlainText, Encoding.UTF8.GetBytes(text));

    public static string ReasonPhrase(int status) => status switch
    {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        414 => "URI Too Long",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    };

    /// <summary>The head and body to send, the body gzipped when <paramref name="gzip"/> (as ASP.NET Core's
    /// response compression did, for every successful answer, at its fastest level: the exposition still shrinks
    /// about tenfold). A HEAD request is sent the same head, with the length of the body it would get.</summary>
    public (byte[] Head, ReadOnlyMemory<byte> Body) Encode(bool gzip, bool keepAlive)
    {
        var body = Body;
        gzip &= Status == 200;
        if (gzip)
        {
            using var stream = new MemoryStream(Math.Max(256, Body.Length / 8));
            using (var gzipStream = new GZipStream(stream, CompressionLevel.Fastest, leaveOpen: true))
            {
                gzipStream.Write(Body.Span);
            }

            body = stream.GetBuffer().AsMemory(0, (int)stream.Length);
        }

        var head = new StringBuilder(256)
            .Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {Status} {ReasonPhrase(Status)}\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Type: {ContentType}\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Length: {body.Length}\r\n")
            .Append(CultureInfo.InvariantCulture, $"Date: {DateTime.UtcNow:r}\r\n");
        if (gzip)
        {
            head.Append("Content-Encoding: gzip\r\n");
        }

        if (Status == 200)
        {
            head.Append("Vary: Accept-Encoding\r\n");
        }

        if (Allow is not null)
        {
            head.Append(CultureInfo.InvariantCulture, $"Allow: {Allow}\r\n");
        }

        head.Append(keepAlive ? "\r\n" : "Connection: close\r\n\r\n");
        return (Encoding.ASCII.GetBytes(head.ToString()), body);
    }
}
