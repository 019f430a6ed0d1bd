using System.Net;
using System.Net.Http.Headers;

namespace Sharpformers.Hub;

/// <summary>What a failed request was about, so its error message can name the repo, revision and file.</summary>
internal sealed record HubRequestContext(string RepoId, string Revision, string? FileName, string Endpoint, bool TokenSent);

/// <summary>
/// The HTTP conventions of the Hub as huggingface_hub implements them: headers, redirect handling
/// (relative redirects followed, absolute ones — a CDN for LFS files — reported), and mapping of
/// error responses to exceptions via the status code and <c>X-Error-Code</c>.
/// </summary>
internal static class HubHttp
{
    public const string RepoCommitHeader = "X-Repo-Commit";
    public const string LinkedEtagHeader = "X-Linked-Etag";
    public const string LinkedSizeHeader = "X-Linked-Size";
    public const string ErrorCodeHeader = "X-Error-Code";
    public const string ErrorMessageHeader = "X-Error-Message";
    private const int MaxRedirects = 10;

    private static readonly Lazy<HttpClient> SharedClient = new(() => new HttpClient(new SocketsHttpHandler
    {
        // Redirects are handled by hand: metadata comes from the first response, and the token must
        // not follow a redirect to another host (the CDN URL is signed).
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    });

    public static HttpClient Client => SharedClient.Value;

    public static string UserAgent { get; } =
        $"sharpformers/{typeof(HubHttp).Assembly.GetName().Version?.ToString(3) ?? "0.0.0"}; dotnet/{Environment.Version}";

    /// <summary>{endpoint}/{prefix}{repo_id}/resolve/{quote(revision, safe="")}/{quote(filename)}.</summary>
    public static string ResolveUrl(string endpoint, HubRepoType repoType, string repoId, string revision, string fileName) =>
        $"{endpoint}/{HubCache.UrlPrefix(repoType)}{repoId}/resolve/{Uri.EscapeDataString(revision)}/{EscapePath(fileName)}";

    /// <summary>{endpoint}/api/{models|datasets|spaces}/{repo_id}/revision/{quote(revision, safe="")}.</summary>
    public static string RepoInfoUrl(string endpoint, HubRepoType repoType, string repoId, string revision) =>
        $"{endpoint}/api/{HubCache.ApiSegment(repoType)}/{repoId}/revision/{Uri.EscapeDataString(revision)}";

    public static string EscapePath(string path) => string.Join('/', path.Split('/').Select(Uri.EscapeDataString));

    public static HttpRequestMessage NewRequest(HttpMethod method, string url, string? token)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    /// <summary>
    /// Sends a request, following relative redirects (a renamed repository) but not absolute ones;
    /// returns the last response, which may be a 3xx to another host.
    /// </summary>
    public static async Task<HttpResponseMessage> SendFollowingRelativeRedirectsAsync(
        Func<string, HttpRequestMessage> makeRequest, string url, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        for (int hop = 0; ; hop++)
        {
            using var request = makeRequest(url);
            var response = await Client.SendAsync(request, completion, cancellationToken).ConfigureAwait(false);
            int status = (int)response.StatusCode;
            if (status is < 300 or > 399 || GetHeader(response, "Location") is not { } location) return response;
            if (Uri.TryCreate(location, UriKind.Absolute, out var absolute) && absolute.Scheme is "http" or "https") return response;
            if (hop >= MaxRedirects) throw new HttpRequestException($"Too many redirects starting from {url}.");
            response.Dispose();
            // Like huggingface_hub: keep scheme and host, take the path of the relative Location.
            var current = new Uri(url);
            string path = location.Split('?', 2)[0];
            url = new UriBuilder(current) { Path = path.StartsWith('/') ? path : new Uri(current, path).AbsolutePath }.Uri.AbsoluteUri;
        }
    }

    public static string? GetHeader(HttpResponseMessage response, string name)
    {
        if (response.Headers.TryGetValues(name, out var values)) return values.FirstOrDefault();
        if (response.Content.Headers.TryGetValues(name, out var contentValues)) return contentValues.FirstOrDefault();
        return null;
    }

    /// <summary>huggingface_hub's _normalize_etag: <c>W/"abc"</c> and <c>"abc"</c> both become <c>abc</c>.</summary>
    public static string? NormalizeEtag(string? etag) => etag?.TrimStart('W', '/').Trim('"');

    /// <summary>Throws the exception huggingface_hub's hf_raise_for_status would, with a message that says what to do.</summary>
    public static void RaiseForStatus(HttpResponseMessage response, string url, HubRequestContext context)
    {
        int status = (int)response.StatusCode;
        if (status is >= 200 and < 400) return;
        string? errorCode = GetHeader(response, ErrorCodeHeader);
        string? serverMessage = GetHeader(response, ErrorMessageHeader);
        string? commit = GetHeader(response, RepoCommitHeader);
        var code = response.StatusCode;
        string where = $"HTTP {status} for {url}";
        string tokenHelp = "pass a token that can read it (HubOptions.Token, --token, the HF_TOKEN variable or `huggingface-cli login`)";

        if (errorCode == "RevisionNotFound")
        {
            throw new RevisionNotFoundException(
                $"Revision '{context.Revision}' does not exist in repository '{context.RepoId}' ({where}). " +
                "Use a branch, a tag or a full 40-character commit hash of that repository.",
                code, url, errorCode, serverMessage) { CommitHash = commit };
        }
        if (errorCode == "EntryNotFound")
        {
            throw new EntryNotFoundException(
                $"Repository '{context.RepoId}' has no file '{context.FileName}' at revision '{context.Revision}' ({where}).",
                code, url, errorCode, serverMessage) { CommitHash = commit };
        }
        if (errorCode == "GatedRepo")
        {
            throw new GatedRepoException(
                $"Repository '{context.RepoId}' is gated ({where}): request access at {context.Endpoint}/{context.RepoId} " +
                "while logged in, then pass a token of that account (HubOptions.Token, --token, the HF_TOKEN variable or `huggingface-cli login`).",
                code, url, errorCode, serverMessage);
        }
        if (serverMessage == "Access to this resource is disabled.")
        {
            throw new HubHttpException(
                $"Repository '{context.RepoId}' has been disabled by its owner or the Hub ({where}): it cannot be downloaded.",
                code, url, errorCode, serverMessage);
        }
        if (status == 401 && serverMessage == "Invalid credentials in Authorization header")
        {
            throw new HubHttpException(
                $"The Hub rejected the token ({where}: {serverMessage}). Check HubOptions.Token, --token or HF_TOKEN, " +
                $"or create a new token at {context.Endpoint}/settings/tokens.",
                code, url, errorCode, serverMessage);
        }
        if (errorCode == "RepoNotFound" || status == 401)
        {
            string tokenNote = context.TokenSent ? " A token was sent, and it does not give access to this repository." : "";
            throw new RepositoryNotFoundException(
                $"Repository '{context.RepoId}' was not found on {context.Endpoint} ({where}). Check the repo id ('org/name'); " +
                $"if the repository is private or gated, {tokenHelp}.{tokenNote}",
                code, url, errorCode, serverMessage);
        }
        string detail = string.IsNullOrEmpty(serverMessage) ? "" : $": {serverMessage}";
        if (status == 403)
        {
            throw new HubHttpException(
                $"Access to {url} is forbidden (HTTP 403{detail}). Check that your token may read '{context.RepoId}'.",
                code, url, errorCode, serverMessage);
        }
        throw new HubHttpException(
            $"The Hub answered HTTP {status} ({response.ReasonPhrase}) for {url}{detail}.",
            code, url, errorCode, serverMessage);
    }
}
