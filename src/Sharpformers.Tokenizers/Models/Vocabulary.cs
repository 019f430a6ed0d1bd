namespace Sharpformers.Tokenizers.Models;

/// <summary>
/// A token-to-id map with an id-to-token array and span lookups (no string allocation per lookup), shared by
/// the models. Ids need not be dense; <see cref="IdToToken"/> returns null for ids nobody uses.
/// </summary>
public sealed class Vocabulary
{
    private readonly Dictionary<string, int> tokenToId;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> spanLookup;
    private readonly string?[] idToToken;

    public Vocabulary(IReadOnlyDictionary<string, int> tokens, string source = "vocabulary")
    {
        tokenToId = new Dictionary<string, int>(tokens.Count, StringComparer.Ordinal);
        int maxId = -1;
        foreach (var (token, id) in tokens)
        {
            if (id < 0) throw new InvalidDataException($"{source}: token '{token}' has a negative id {id}");
            tokenToId[token] = id;
            maxId = Math.Max(maxId, id);
        }
        idToToken = new string?[maxId + 1];
        foreach (var (token, id) in tokenToId)
        {
            // Several tokens on one id: keep the first in id order of insertion, as a reversed dict would keep the last; rare.
            idToToken[id] ??= token;
        }
        spanLookup = tokenToId.GetAlternateLookup<ReadOnlySpan<char>>();
        MaxTokenLength = 0;
        foreach (var token in tokenToId.Keys) MaxTokenLength = Math.Max(MaxTokenLength, token.Length);
    }

    public int Count => tokenToId.Count;

    /// <summary>One more than the largest id.</summary>
    public int IdLimit => idToToken.Length;

    /// <summary>Length of the longest token in UTF-16 units.</summary>
    public int MaxTokenLength { get; }

    public IReadOnlyDictionary<string, int> TokenToIdMap => tokenToId;

    public bool TryGetId(ReadOnlySpan<char> token, out int id) => spanLookup.TryGetValue(token, out id);

    public bool TryGetId(string token, out int id) => tokenToId.TryGetValue(token, out id);

    public int? TokenToId(string token) => tokenToId.TryGetValue(token, out int id) ? id : null;

    public string? IdToToken(int id) => (uint)id < (uint)idToToken.Length ? idToToken[id] : null;

    /// <summary>The stored string for a token span (no new string when the token exists).</summary>
    public string? GetStoredToken(ReadOnlySpan<char> token) =>
        spanLookup.TryGetValue(token, out int id) ? idToToken[id] : null;
}
