using System.Security.Cryptography;
using System.Text;
using Loadshift.Rebalancer.Inventory;
using Microsoft.Extensions.Options;

namespace Loadshift.Rebalancer.Webhook;

/// <summary>The token the API expects, read from webhook.tokenFile (the file Alertmanager's
/// <c>authorization.credentials_file</c> points at). Re-read when the file changes, so it can be rotated.</summary>
internal sealed class BearerToken(IOptions<WebhookOptions> options)
{
    private readonly Lock gate = new();
    private DateTime readAt;
    private byte[] hash = [];

    public bool Matches(string? presented)
    {
        if (string.IsNullOrEmpty(presented))
        {
            return false;
        }
        // Hashing both sides first makes the comparison constant-time in the length as well.
        var presentedHash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        return CryptographicOperations.FixedTimeEquals(presentedHash, Expected());
    }

    private byte[] Expected()
    {
        var path = options.Value.TokenFile;
        var modified = File.GetLastWriteTimeUtc(path);
        lock (gate)
        {
            if (modified != readAt)
            {
                hash = SHA256.HashData(Encoding.UTF8.GetBytes(File.ReadAllText(path).Trim()));
                readAt = modified;
            }
            return hash;
        }
    }
}

/// <summary>Every /api/v1 endpoint requires <c>Authorization: Bearer &lt;token&gt;</c>; 401 otherwise.</summary>
internal sealed class BearerTokenFilter(BearerToken token) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var header = context.HttpContext.Request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        var presented = header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) ? header[scheme.Length..].Trim() : null;
        bool matches;
        try
        {
            matches = token.Matches(presented);
        }
        catch (IOException e)
        {
            // The token file went away (being rotated?): a retry can help, so 503, which Alertmanager retries.
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Token file unreadable", detail: e.Message);
        }
        if (!matches)
        {
            context.HttpContext.Response.Headers.WWWAuthenticate = "Bearer";
            return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized",
                detail: "Send Authorization: Bearer <token> with the token from webhook.tokenFile.");
        }
        return await next(context).ConfigureAwait(false);
    }
}
