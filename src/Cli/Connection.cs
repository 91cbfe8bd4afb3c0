using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;

namespace Loadshift.Cli;

/// <summary>Where the token came from, to name it in an error.</summary>
internal sealed record Token(string Value, string Source);

/// <summary>The Rebalancer's API at one URL with one bearer token. Every failure becomes a <see cref="CliException"/>
/// that says what happened and what to do, with its exit code.</summary>
internal sealed class Connection : IDisposable
{
    public const string UrlVariable = "LOADSHIFT_URL";
    public const string TokenVariable = "LOADSHIFT_TOKEN";
    public const string TokenFileVariable = "LOADSHIFT_TOKEN_FILE";
    public const string DefaultUrl = "http://127.0.0.1:10180";

    /// <summary>The Rebalancer's token file in a packaged install (the inventory's webhook.tokenFile).</summary>
    public const string DefaultTokenFile = "/etc/loadshift/rebalancer-webhook.token";

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly HttpClient http;
    private readonly Token token;

    public Connection(Uri baseUrl, Token token, TimeSpan timeout)
    {
        BaseUrl = baseUrl;
        this.token = token;
        http = new HttpClient { BaseAddress = baseUrl, Timeout = timeout };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.Value);
        http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("loadshift", "0.1.0"));
    }

    public Uri BaseUrl { get; }

    public void Dispose() => http.Dispose();

    /// <summary>--url, else LOADSHIFT_URL, else the Rebalancer's default listen address.</summary>
    public static Uri ResolveUrl(string? option)
    {
        var text = option ?? Environment.GetEnvironmentVariable(UrlVariable) ?? DefaultUrl;
        if (!Uri.TryCreate(text.EndsWith('/') ? text : text + "/", UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            throw new CliException(ExitCodes.Unreachable, $"'{text}' is not the Rebalancer's URL: give it as http://HOST:PORT (--url or {UrlVariable}).");
        }
        return url;
    }

    /// <summary>--token-file, else LOADSHIFT_TOKEN, else LOADSHIFT_TOKEN_FILE, else the packaged install's file. The
    /// file holds the token alone; a trailing newline is trimmed, as the Rebalancer and Alertmanager do.</summary>
    public static Token ResolveToken(string? tokenFile)
    {
        if (tokenFile is null && Environment.GetEnvironmentVariable(TokenVariable) is { Length: > 0 } value)
        {
            return new Token(value.Trim(), TokenVariable);
        }
        var path = tokenFile ?? Environment.GetEnvironmentVariable(TokenFileVariable) ?? DefaultTokenFile;
        var source = tokenFile is not null ? $"--token-file {path}" : path == DefaultTokenFile ? path : $"{TokenFileVariable} ({path})";
        string text;
        try
        {
            text = File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.Token, tokenFile is null && path == DefaultTokenFile
                ? $"no token: set {TokenVariable}, or {TokenFileVariable} or --token-file to the file named by webhook.tokenFile in the Rebalancer's inventory ({path}: {e.Message})"
                : $"cannot read the token from {source}: {e.Message}", e);
        }
        return text.Length == 0 ? throw new CliException(ExitCodes.Token, $"the token from {source} is empty") : new Token(text, source);
    }

    public Task<string> GetAsync(string path, CancellationToken cancellationToken) => SendAsync(HttpMethod.Get, path, cancellationToken);

    public Task<string> PostAsync(string path, CancellationToken cancellationToken, object? body = null) =>
        SendAsync(HttpMethod.Post, path, cancellationToken, body);

    public static T Read<T>(string json) =>
        JsonSerializer.Deserialize<T>(json, Json) ?? throw new CliException(ExitCodes.Failed, $"the Rebalancer answered 'null' where a {typeof(T).Name} was expected");

    private async Task<string> SendAsync(HttpMethod method, string path, CancellationToken cancellationToken, object? body = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(path.TrimStart('/'), UriKind.Relative));
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, options: Json);
        }
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            var why = e.InnerException is SocketException socket ? socket.Message : e.Message;
            throw new CliException(ExitCodes.Unreachable,
                $"cannot reach the Rebalancer at {BaseUrl}: {why}. Is it running (systemctl status loadshift-rebalancer)? --url or {UrlVariable} says where it listens.", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliException(ExitCodes.Unreachable,
                $"the Rebalancer at {BaseUrl} did not answer within {http.Timeout.TotalSeconds:0} s (--timeout)", e);
        }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return text;
            }
            var problem = TryProblem(text);
            var said = problem is { Title: { } title } ? $"{title}: {problem.Detail}" : $"{(int)response.StatusCode} {response.ReasonPhrase}";
            throw response.StatusCode switch
            {
                HttpStatusCode.Unauthorized => new CliException(ExitCodes.Token,
                    $"the Rebalancer at {BaseUrl} refused the token from {token.Source} (401): it must be the one in the file named by webhook.tokenFile in its inventory"),
                HttpStatusCode.NotFound when problem is null => new CliException(ExitCodes.Unreachable,
                    $"{BaseUrl} answered 404 for {path}: is it a Rebalancer (version 0.1 or later)? --url or {UrlVariable} says where it listens."),
                HttpStatusCode.NotFound => new CliException(ExitCodes.NotFound, Lower(said)),
                HttpStatusCode.Conflict => new CliException(ExitCodes.Conflict, Lower(said)),
                _ => new CliException(ExitCodes.Failed, $"the Rebalancer answered {(int)response.StatusCode}: {said}"),
            };
        }
    }

    private static Problem? TryProblem(string text)
    {
        try
        {
            return JsonSerializer.Deserialize<Problem>(text, Json) is { Title: not null } problem ? problem : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Lower(string text) => text.Length > 1 && char.IsUpper(text[0]) && char.IsLower(text[1]) ? char.ToLowerInvariant(text[0]) + text[1..] : text;
}
