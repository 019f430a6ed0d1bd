using System.Net;
using System.Security.Cryptography;

namespace Sharpformers.Hub;

/// <summary>Receives download progress: a total that may grow (snapshot downloads learn sizes as they go) and bytes.</summary>
internal interface IDownloadProgress
{
    void AddTotal(long bytes);

    void Advance(long bytes);
}

/// <summary>What one blob download needs to know.</summary>
internal sealed record BlobRequest(
    string Url,
    string? Token,
    string IncompletePath,
    string BlobPath,
    long ExpectedSize,
    string? ExpectedSha256,
    string RepoId,
    string FileName,
    HubRequestContext Context);

/// <summary>
/// Streams a file into <c>blobs/&lt;etag&gt;.incomplete</c>, resuming with <c>Range: bytes=N-</c> from
/// whatever a previous attempt (this process or an earlier one) left there, then checks the size and,
/// for LFS files, the sha256 the ETag promises, and renames the file to <c>blobs/&lt;etag&gt;</c>.
/// The caller holds the blob's lock.
/// </summary>
internal static class BlobDownloader
{
    private const int ChunkSize = 1 << 20;

    public static async Task DownloadAsync(BlobRequest blob, HubOptions options, IDownloadProgress? progress, CancellationToken cancellationToken)
    {
        if (options.ForceDownload && File.Exists(blob.IncompletePath)) File.Delete(blob.IncompletePath);
        int retriesLeft = Math.Max(0, options.MaxRetries);
        bool totalReported = false;
        while (true)
        {
            long resumeFrom = 0;
            try
            {
                bool complete = await TryDownloadOnceAsync(blob, options, progress, totalReported, r => resumeFrom = r, cancellationToken).ConfigureAwait(false);
                totalReported = true;
                if (complete) break;
            }
            catch (Exception e) when (IsTransient(e, cancellationToken))
            {
                totalReported = true;
                long have = File.Exists(blob.IncompletePath) ? new FileInfo(blob.IncompletePath).Length : 0;
                // Progress since the last attempt earns the full retry budget back, as in huggingface_hub.
                if (have > resumeFrom) retriesLeft = Math.Max(retriesLeft, Math.Max(0, options.MaxRetries));
                if (retriesLeft-- <= 0)
                {
                    throw new IOException(
                        $"The download of '{blob.FileName}' from '{blob.RepoId}' broke off after {have} of {blob.ExpectedSize} bytes " +
                        $"({Describe(e)}). Run the same command again to resume from {blob.IncompletePath}.", e);
                }
                await Task.Delay(options.RetryDelay, cancellationToken).ConfigureAwait(false);
            }
        }
        Verify(blob);
        File.Move(blob.IncompletePath, blob.BlobPath, overwrite: true);
    }

    /// <summary>One GET; returns true when the .incomplete file holds the whole blob.</summary>
    private static async Task<bool> TryDownloadOnceAsync(
        BlobRequest blob, HubOptions options, IDownloadProgress? progress, bool totalReported, Action<long> reportResume, CancellationToken cancellationToken)
    {
        using var file = new FileStream(blob.IncompletePath, FileMode.Append, FileAccess.Write, FileShare.None, 1 << 16);
        long resumeFrom = file.Length;
        reportResume(resumeFrom);
        if (resumeFrom > blob.ExpectedSize)
        {
            file.SetLength(0);
            resumeFrom = 0;
        }
        if (!totalReported)
        {
            progress?.AddTotal(blob.ExpectedSize);
            progress?.Advance(resumeFrom);
        }
        if (resumeFrom == blob.ExpectedSize) return true;

        using var response = await SendFollowingRedirectsAsync(blob, resumeFrom, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            // The partial file does not fit the blob on the server: start over.
            progress?.Advance(-resumeFrom);
            file.SetLength(0);
            throw new IOException($"the server refused to resume at byte {resumeFrom} (HTTP 416)");
        }
        HubHttp.RaiseForStatus(response, blob.Url, blob.Context);
        if (resumeFrom > 0 && response.StatusCode != HttpStatusCode.PartialContent)
        {
            // The server ignored the Range header and sends everything again.
            progress?.Advance(-resumeFrom);
            file.SetLength(0);
            file.Seek(0, SeekOrigin.End);
            resumeFrom = 0;
        }
        else if (resumeFrom > 0 && response.Content.Headers.ContentRange?.From is { } from && from != resumeFrom)
        {
            throw new InvalidDataException(
                $"The server resumed the download of '{blob.FileName}' at byte {from}, not at byte {resumeFrom} as asked (Content-Range: {response.Content.Headers.ContentRange}).");
        }

        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        byte[] buffer = new byte[ChunkSize];
        using var readTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        long written = resumeFrom;
        while (true)
        {
            readTimeout.CancelAfter(options.EffectiveReadTimeout);
            int read = await body.ReadAsync(buffer, readTimeout.Token).ConfigureAwait(false);
            if (read == 0) break;
            if (written + read > blob.ExpectedSize)
            {
                throw new InvalidDataException(
                    $"The server sent more than the {blob.ExpectedSize} bytes it announced for '{blob.FileName}' of '{blob.RepoId}'.");
            }
            await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            written += read;
            progress?.Advance(read);
        }
        await file.FlushAsync(cancellationToken).ConfigureAwait(false);
        file.Flush(flushToDisk: true);
        if (written < blob.ExpectedSize)
        {
            throw new IOException($"the connection closed after {written} of {blob.ExpectedSize} bytes");
        }
        return true;
    }

    private static async Task<HttpResponseMessage> SendFollowingRedirectsAsync(BlobRequest blob, long resumeFrom, CancellationToken cancellationToken)
    {
        string url = blob.Url;
        string? token = blob.Token;
        for (int hop = 0; hop < 10; hop++)
        {
            using var request = HubHttp.NewRequest(HttpMethod.Get, url, token);
            if (resumeFrom > 0) request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(resumeFrom, null);
            var response = await HubHttp.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            int status = (int)response.StatusCode;
            if (status is < 300 or > 399 || HubHttp.GetHeader(response, "Location") is not { } location) return response;
            response.Dispose();
            var next = new Uri(new Uri(url), location);
            // A signed CDN URL on another host must not receive the Hub token.
            if (!string.Equals(next.Host, new Uri(url).Host, StringComparison.OrdinalIgnoreCase) || next.Port != new Uri(url).Port) token = null;
            url = next.AbsoluteUri;
        }
        throw new HttpRequestException($"Too many redirects while downloading '{blob.FileName}' from {blob.Url}.");
    }

    private static void Verify(BlobRequest blob)
    {
        long size = new FileInfo(blob.IncompletePath).Length;
        if (size != blob.ExpectedSize)
        {
            File.Delete(blob.IncompletePath);
            throw new InvalidDataException(
                $"The download of '{blob.FileName}' from '{blob.RepoId}' has {size} bytes but the Hub announced {blob.ExpectedSize}. " +
                "The partial file was deleted; run again to download it afresh.");
        }
        if (blob.ExpectedSha256 is null) return;
        string actual;
        using (var stream = new FileStream(blob.IncompletePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20))
        {
            actual = Convert.ToHexStringLower(SHA256.HashData(stream));
        }
        if (actual != blob.ExpectedSha256)
        {
            File.Delete(blob.IncompletePath);
            throw new InvalidDataException(
                $"The download of '{blob.FileName}' from '{blob.RepoId}' is corrupted: its sha256 is {actual} but the Hub's ETag says " +
                $"{blob.ExpectedSha256}. The corrupted file was deleted; run again to download it afresh.");
        }
    }

    /// <summary>Failures worth a resume: the connection broke or stalled. HTTP errors and bad data are not.</summary>
    private static bool IsTransient(Exception e, CancellationToken cancellationToken) => e switch
    {
        HubHttpException => false,
        InvalidDataException => false,
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        HttpRequestException or IOException => true,
        _ => false,
    };

    private static string Describe(Exception e) => e is OperationCanceledException ? "no data received within the read timeout" : e.Message;
}
