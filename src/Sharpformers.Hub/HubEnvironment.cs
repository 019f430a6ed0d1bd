namespace Sharpformers.Hub;

/// <summary>
/// The Hugging Face Hub settings that come from environment variables, read exactly as Python's
/// <c>huggingface_hub</c> reads them (constants.py), so both libraries agree on the endpoint, the
/// cache folder, the token and offline mode:
/// <list type="bullet">
/// <item><c>HF_ENDPOINT</c> (default https://huggingface.co)</item>
/// <item><c>HF_HOME</c> (default <c>$XDG_CACHE_HOME/huggingface</c>, else <c>~/.cache/huggingface</c>)</item>
/// <item><c>HF_HUB_CACHE</c>, else the legacy <c>HUGGINGFACE_HUB_CACHE</c>, else <c>$HF_HOME/hub</c></item>
/// <item><c>HF_TOKEN</c>, else the legacy <c>HUGGING_FACE_HUB_TOKEN</c>, else the file <c>HF_TOKEN_PATH</c> (default <c>$HF_HOME/token</c>)</item>
/// <item><c>HF_HUB_OFFLINE</c> or <c>TRANSFORMERS_OFFLINE</c> in 1/ON/YES/TRUE (any case)</item>
/// <item><c>HF_HUB_DISABLE_IMPLICIT_TOKEN</c>, <c>HF_HUB_DISABLE_PROGRESS_BARS</c></item>
/// </list>
/// Tests pass their own variable lookup instead of mutating the process environment.
/// </summary>
public sealed class HubEnvironment
{
    public const string DefaultEndpoint = "https://huggingface.co";

    private static readonly string[] TrueValues = ["1", "ON", "YES", "TRUE"];
    private readonly Func<string, string?> lookup;

    /// <param name="lookup">Returns an environment variable's value or null.</param>
    public HubEnvironment(Func<string, string?> lookup)
    {
        ArgumentNullException.ThrowIfNull(lookup);
        this.lookup = lookup;
    }

    /// <summary>The process environment, read at each property access.</summary>
    public static HubEnvironment Process { get; } = new(Environment.GetEnvironmentVariable);

    /// <summary>An environment made of the given variables only (for tests and embedding).</summary>
    public static HubEnvironment FromVariables(IReadOnlyDictionary<string, string> variables) =>
        new(name => variables.TryGetValue(name, out var value) ? value : null);

    public string? this[string name] => lookup(name);

    /// <summary><c>HF_ENDPOINT</c> without a trailing slash.</summary>
    public string Endpoint => NonEmpty("HF_ENDPOINT")?.TrimEnd('/') ?? DefaultEndpoint;

    /// <summary><c>HF_HOME</c>, with a leading <c>~</c> expanded.</summary>
    public string HfHome
    {
        get
        {
            string? explicitHome = lookup("HF_HOME");
            if (explicitHome is not null) return ExpandUser(explicitHome);
            string cacheHome = lookup("XDG_CACHE_HOME") ?? Path.Combine(UserHome, ".cache");
            return ExpandUser(Path.Combine(cacheHome, "huggingface"));
        }
    }

    /// <summary>The hub cache folder (<c>models--org--name</c> folders live here).</summary>
    public string HubCache =>
        ExpandUser(lookup("HF_HUB_CACHE") ?? lookup("HUGGINGFACE_HUB_CACHE") ?? Path.Combine(HfHome, "hub"));

    /// <summary>Where `huggingface-cli login` stores the token.</summary>
    public string TokenPath => ExpandUser(lookup("HF_TOKEN_PATH") ?? Path.Combine(HfHome, "token"));

    /// <summary>
    /// The token to send when the caller gives none: <c>HF_TOKEN</c>, then the token file; null when
    /// neither is set or <c>HF_HUB_DISABLE_IMPLICIT_TOKEN</c> is on.
    /// </summary>
    public string? Token
    {
        get
        {
            string? fromVariable = CleanToken(lookup("HF_TOKEN") ?? lookup("HUGGING_FACE_HUB_TOKEN"));
            if (fromVariable is not null) return fromVariable;
            string path = TokenPath;
            try
            {
                return File.Exists(path) ? CleanToken(File.ReadAllText(path)) : null;
            }
            catch (IOException)
            {
                return null;
            }
            catch (UnauthorizedAccessException)
            {
                return null;
            }
        }
    }

    /// <summary>Whether a token found in the environment may be sent without being asked for.</summary>
    public bool ImplicitTokenDisabled => IsTrue("HF_HUB_DISABLE_IMPLICIT_TOKEN");

    /// <summary><c>HF_HUB_OFFLINE=1</c> (or <c>TRANSFORMERS_OFFLINE=1</c>): never touch the network.</summary>
    public bool Offline => IsTrue(NonEmpty("HF_HUB_OFFLINE") is not null ? "HF_HUB_OFFLINE" : "TRANSFORMERS_OFFLINE");

    /// <summary><c>HF_HUB_DISABLE_PROGRESS_BARS</c>: true or false when set, null when unset.</summary>
    public bool? ProgressBarsDisabled => lookup("HF_HUB_DISABLE_PROGRESS_BARS") is null ? null : IsTrue("HF_HUB_DISABLE_PROGRESS_BARS");

    public bool IsTrue(string name)
    {
        string? value = lookup(name);
        return value is not null && TrueValues.Contains(value.ToUpperInvariant());
    }

    private string? NonEmpty(string name) => lookup(name) is { Length: > 0 } value ? value : null;

    private static string? CleanToken(string? token)
    {
        if (token is null) return null;
        string cleaned = token.Replace("\r", "").Replace("\n", "").Trim();
        return cleaned.Length == 0 ? null : cleaned;
    }

    private static string UserHome => Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

    private static string ExpandUser(string path)
    {
        if (path == "~") return UserHome;
        if (path.StartsWith("~/", StringComparison.Ordinal) || path.StartsWith("~\\", StringComparison.Ordinal))
        {
            return Path.Combine(UserHome, path[2..]);
        }
        return path;
    }
}
