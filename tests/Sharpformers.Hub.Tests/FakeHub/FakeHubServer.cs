using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Sharpformers.Hub.Tests.FakeHub;

/// <summary>One request the fake Hub received.</summary>
public sealed record RecordedRequest(string Method, string Path, string? Range, string? Authorization);

/// <summary>A file of a fake repository, with the ETag the real Hub would give it.</summary>
public sealed class FakeFile(byte[] content, bool isLfs)
{
    public byte[] Content { get; } = content;

    public bool IsLfs { get; } = isLfs;

    /// <summary>sha256 of the content: the ETag (X-Linked-Etag) of an LFS file.</summary>
    public string Sha256 { get; } = Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>git's blob id: the ETag of a file stored in git itself.</summary>
    public string GitSha1 { get; } = GitBlobSha1(content);

    /// <summary>The name of the blob in the cache.</summary>
    public string Etag => IsLfs ? Sha256 : GitSha1;

    /// <summary>The git-lfs pointer text that git stores for an LFS file.</summary>
    public byte[] PointerText => Encoding.ASCII.GetBytes($"version https://git-lfs.github.com/spec/v1\noid sha256:{Sha256}\nsize {Content.Length}\n");

    public static string GitBlobSha1(byte[] content)
    {
        byte[] header = Encoding.ASCII.GetBytes($"blob {content.Length}\0");
        return Convert.ToHexStringLower(SHA1.HashData([.. header, .. content]));
    }
}

/// <summary>A fake repository: commits (each a set of files) and refs (branches/tags) pointing at them.</summary>
public sealed class FakeRepo(string id)
{
    public string Id { get; } = id;

    public Dictionary<string, Dictionary<string, FakeFile>> Commits { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, string> Refs { get; } = new(StringComparer.Ordinal);

    /// <summary>Tokens allowed to read a private or gated repository; empty = public.</summary>
    public HashSet<string> AllowedTokens { get; } = [];

    public bool Gated { get; init; }

    /// <summary>Adds a commit whose id is derived from <paramref name="label"/>; the refs point at it.</summary>
    public string AddCommit(string label, IReadOnlyDictionary<string, byte[]> files, params string[] refs)
    {
        string commit = Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(Id + "@" + label)));
        Commits[commit] = files.ToDictionary(f => f.Key, f => new FakeFile(f.Value, IsLfsName(f.Key)), StringComparer.Ordinal);
        foreach (string r in refs) Refs[r] = commit;
        return commit;
    }

    public string? ResolveRevision(string revision) =>
        Commits.ContainsKey(revision) ? revision : Refs.TryGetValue(revision, out var commit) ? commit : null;

    /// <summary>Like .gitattributes on the Hub: weights and SentencePiece models are in LFS.</summary>
    public static bool IsLfsName(string name) =>
        name.EndsWith(".safetensors", StringComparison.Ordinal) || name.EndsWith(".bin", StringComparison.Ordinal)
        || name.EndsWith(".model", StringComparison.Ordinal);
}

/// <summary>
/// A loopback Hugging Face Hub (Kestrel on 127.0.0.1, port chosen by the OS) with the real Hub's routes
/// and headers: HEAD/GET /{repo}/resolve/{revision}/{file} (X-Repo-Commit, ETag, and for LFS files a
/// 302 to a CDN-like /cdn/{sha256} URL with X-Linked-Etag and X-Linked-Size), GET
/// /api/models/{repo}/revision/{revision} (sha + siblings), the 401/403/404 errors with X-Error-Code,
/// a relative redirect for a renamed repo, Range requests, and fault injection (connections dropped
/// after N bytes, corrupted bytes, slow transfers).
/// </summary>
public sealed class FakeHubServer : IAsyncDisposable
{
    private readonly ConcurrentQueue<RecordedRequest> requests = new();
    private readonly ConcurrentDictionary<string, FakeRepo> repos = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> renamed = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, FakeFile> lfsBySha = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> dropAfterBytes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> corrupt = new(StringComparer.Ordinal);
    private WebApplication? app;
    private FakeCdn? cdn;

    private FakeHubServer()
    {
    }

    public string Endpoint { get; private set; } = "";

    public IReadOnlyList<RecordedRequest> Requests => requests.ToArray();

    public int RequestCount => requests.Count;

    /// <summary>Delay between 16 KiB chunks of CDN downloads (makes concurrent downloads overlap).</summary>
    public TimeSpan CdnChunkDelay
    {
        get => cdn!.ChunkDelay;
        set => cdn!.ChunkDelay = value;
    }

    /// <summary>The CDN's origin (another port than the Hub, like the real CDN is another host).</summary>
    public string CdnEndpoint => $"http://127.0.0.1:{cdn!.Port}";

    public static async Task<FakeHubServer> StartAsync()
    {
        var server = new FakeHubServer();
        server.cdn = new FakeCdn(server.CdnContent, server.requests.Enqueue)
        {
            TakeDrop = sha => server.dropAfterBytes.TryRemove(sha, out long n) ? n : null,
        };
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        server.app = builder.Build();
        server.app.Run(server.HandleAsync);
        await server.app.StartAsync();
        var addresses = server.app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        server.Endpoint = addresses.First().Replace("[::1]", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/');
        return server;
    }

    public FakeRepo AddRepo(FakeRepo repo)
    {
        repos[repo.Id] = repo;
        foreach (var file in repo.Commits.Values.SelectMany(c => c.Values).Where(f => f.IsLfs)) lfsBySha[file.Sha256] = file;
        return repo;
    }

    /// <summary>Requests for <paramref name="oldId"/> get a relative redirect to <paramref name="newId"/> (a renamed repo).</summary>
    public void Rename(string oldId, string newId) => renamed[oldId] = newId;

    /// <summary>The next CDN download of this blob sends <paramref name="bytes"/> bytes, then closes the connection.</summary>
    public void DropNextDownloadAfter(string sha256, long bytes) => dropAfterBytes[sha256] = bytes;

    /// <summary>CDN downloads of this blob flip one byte in the middle (the ETag still promises the right sha256).</summary>
    public void Corrupt(string sha256, bool on = true) => corrupt[sha256] = on;

    public void ClearRequests() => requests.Clear();

    public async Task StopAsync()
    {
        if (cdn is not null)
        {
            await cdn.DisposeAsync();
        }
        if (app is null) return;
        await app.StopAsync();
        await app.DisposeAsync();
        app = null;
    }

    private byte[]? CdnContent(string sha)
    {
        if (!lfsBySha.TryGetValue(sha, out var file)) return null;
        if (!(corrupt.TryGetValue(sha, out bool isCorrupt) && isCorrupt)) return file.Content;
        byte[] content = (byte[])file.Content.Clone();
        content[content.Length / 2] ^= 0x5A;
        return content;
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task HandleAsync(HttpContext context)
    {
        string rawTarget = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        string rawPath = rawTarget.Split('?', 2)[0];
        requests.Enqueue(new RecordedRequest(
            context.Request.Method, rawPath, context.Request.Headers.Range.FirstOrDefault(), context.Request.Headers.Authorization.FirstOrDefault()));

        if (rawPath.StartsWith("/api/models/", StringComparison.Ordinal))
        {
            await ServeRepoInfoAsync(context, rawPath["/api/models/".Length..]);
            return;
        }
        int resolve = rawPath.IndexOf("/resolve/", StringComparison.Ordinal);
        if (resolve > 0)
        {
            await ServeResolveAsync(context, rawPath, Uri.UnescapeDataString(rawPath[1..resolve]), rawPath[(resolve + "/resolve/".Length)..]);
            return;
        }
        context.Response.StatusCode = 404;
    }

    private async Task ServeResolveAsync(HttpContext context, string rawPath, string repoId, string rest)
    {
        if (renamed.TryGetValue(repoId, out string? newId))
        {
            context.Response.StatusCode = 307;
            context.Response.Headers.Location = "/" + newId + "/resolve/" + rest;
            return;
        }
        int slash = rest.IndexOf('/');
        string revision = Uri.UnescapeDataString(slash < 0 ? rest : rest[..slash]);
        string fileName = slash < 0 ? "" : string.Join('/', rest[(slash + 1)..].Split('/').Select(Uri.UnescapeDataString));
        if (!CheckAccess(context, repoId, out var repo)) return;
        string? commit = repo.ResolveRevision(revision);
        if (commit is null)
        {
            Error(context, 404, "RevisionNotFound", $"Invalid rev id: {revision}");
            return;
        }
        if (!repo.Commits[commit].TryGetValue(fileName, out var file))
        {
            context.Response.Headers["X-Repo-Commit"] = commit;
            Error(context, 404, "EntryNotFound", $"{fileName} does not exist on \"{revision}\"");
            return;
        }
        context.Response.Headers["X-Repo-Commit"] = commit;
        context.Response.Headers.AcceptRanges = "bytes";
        if (file.IsLfs)
        {
            // As on the Hub: the resolve URL of an LFS file redirects to the CDN; the metadata of the
            // real content comes in X-Linked-*, the ETag is the pointer's git id.
            context.Response.StatusCode = 302;
            context.Response.Headers.ETag = $"\"{FakeFile.GitBlobSha1(file.PointerText)}\"";
            context.Response.Headers["X-Linked-Etag"] = $"\"{file.Sha256}\"";
            context.Response.Headers["X-Linked-Size"] = file.Content.Length.ToString();
            context.Response.Headers.Location = $"{CdnEndpoint}/cdn/{file.Sha256}?X-Amz-Signature=fake";
            return;
        }
        context.Response.Headers.ETag = $"\"{file.GitSha1}\"";
        context.Response.ContentLength = file.Content.Length;
        if (HttpMethods.IsGet(context.Request.Method)) await context.Response.Body.WriteAsync(file.Content);
    }

    private async Task ServeRepoInfoAsync(HttpContext context, string rest)
    {
        int marker = rest.IndexOf("/revision/", StringComparison.Ordinal);
        string repoId = Uri.UnescapeDataString(marker < 0 ? rest : rest[..marker]);
        string revision = marker < 0 ? "main" : Uri.UnescapeDataString(rest[(marker + "/revision/".Length)..]);
        if (!CheckAccess(context, repoId, out var repo)) return;
        string? commit = repo.ResolveRevision(revision);
        if (commit is null)
        {
            Error(context, 404, "RevisionNotFound", $"Invalid rev id: {revision}");
            return;
        }
        var body = new
        {
            id = repo.Id,
            sha = commit,
            siblings = repo.Commits[commit].Keys.Order(StringComparer.Ordinal).Select(f => new { rfilename = f }).ToArray(),
        };
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(body));
    }

    private bool CheckAccess(HttpContext context, string repoId, out FakeRepo repo)
    {
        string? auth = context.Request.Headers.Authorization.FirstOrDefault();
        string? token = auth is not null && auth.StartsWith("Bearer ", StringComparison.Ordinal) ? auth["Bearer ".Length..] : null;
        if (!repos.TryGetValue(repoId, out repo!))
        {
            // The Hub answers 401 to anonymous requests for unknown repos (it cannot tell them from private ones).
            Error(context, token is null ? 401 : 404, "RepoNotFound", "Repository not found");
            return false;
        }
        if (repo.AllowedTokens.Count == 0 || (token is not null && repo.AllowedTokens.Contains(token))) return true;
        if (repo.Gated)
        {
            Error(context, token is null ? 401 : 403, "GatedRepo",
                $"Access to model {repoId} is restricted. You must have access to it and be authenticated to access it. Please log in.");
        }
        else
        {
            Error(context, token is null ? 401 : 404, "RepoNotFound", "Repository not found");
        }
        return false;
    }

    private static void Error(HttpContext context, int status, string code, string message)
    {
        context.Response.StatusCode = status;
        context.Response.Headers["X-Error-Code"] = code;
        context.Response.Headers["X-Error-Message"] = message;
    }
}
