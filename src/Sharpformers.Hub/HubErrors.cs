using System.Net;

namespace Sharpformers.Hub;

/// <summary>
/// The Hub refused a request. Subclasses mirror <c>huggingface_hub</c>'s errors, chosen from the
/// status code and the <c>X-Error-Code</c> header; messages say what to do about it.
/// </summary>
public class HubHttpException : HttpRequestException
{
    public HubHttpException(string message, HttpStatusCode statusCode, string url, string? errorCode, string? serverMessage, Exception? inner = null)
        : base(message, inner, statusCode)
    {
        Url = url;
        ErrorCode = errorCode;
        ServerMessage = serverMessage;
    }

    /// <summary>The URL that failed.</summary>
    public string Url { get; }

    /// <summary>The <c>X-Error-Code</c> header (RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo), if any.</summary>
    public string? ErrorCode { get; }

    /// <summary>The <c>X-Error-Message</c> header, if any.</summary>
    public string? ServerMessage { get; }

    /// <summary>The <c>X-Repo-Commit</c> header of the error response (sent with EntryNotFound), if any.</summary>
    public string? CommitHash { get; init; }
}

/// <summary>The repository does not exist, or it is private/gated and no valid token was sent (401 or RepoNotFound).</summary>
public sealed class RepositoryNotFoundException(
    string message, HttpStatusCode statusCode, string url, string? errorCode, string? serverMessage, Exception? inner = null)
    : HubHttpException(message, statusCode, url, errorCode, serverMessage, inner);

/// <summary>The repository exists but the branch, tag or commit does not (404 RevisionNotFound).</summary>
public sealed class RevisionNotFoundException(string message, HttpStatusCode statusCode, string url, string? errorCode, string? serverMessage)
    : HubHttpException(message, statusCode, url, errorCode, serverMessage);

/// <summary>The repository and revision exist but the file does not (404 EntryNotFound).</summary>
public sealed class EntryNotFoundException(string message, HttpStatusCode statusCode, string url, string? errorCode, string? serverMessage)
    : HubHttpException(message, statusCode, url, errorCode, serverMessage);

/// <summary>The repository is gated and the token's account has not been granted access (GatedRepo).</summary>
public sealed class GatedRepoException(string message, HttpStatusCode statusCode, string url, string? errorCode, string? serverMessage)
    : HubHttpException(message, statusCode, url, errorCode, serverMessage);

/// <summary>
/// The file is not in the local cache and the Hub could not be asked (offline mode,
/// <c>LocalFilesOnly</c>, or a connection failure). <c>huggingface_hub</c>'s LocalEntryNotFoundError.
/// </summary>
public sealed class LocalEntryNotFoundException : FileNotFoundException
{
    public LocalEntryNotFoundException(string message, string? fileName = null, Exception? inner = null)
        : base(message, fileName, inner)
    {
    }
}
