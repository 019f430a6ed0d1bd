using Sharpformers.Tokenizers.Decoders;

namespace Sharpformers.Tokenizers;

public sealed partial class PreTrainedTokenizer
{
    /// <summary>
    /// Turns ids back into text (decode). Special tokens are dropped with <paramref name="skipSpecialTokens"/>;
    /// spaces before punctuation are cleaned up per <paramref name="cleanUpTokenizationSpaces"/> (default: the
    /// tokenizer's setting).
    /// </summary>
    public string Decode(IReadOnlyList<int> ids, bool skipSpecialTokens = false, bool? cleanUpTokenizationSpaces = null)
    {
        ArgumentNullException.ThrowIfNull(ids);
        string text = SlowDecoder is null ? Pipeline.Decode(ids, skipSpecialTokens) : DecodeSlow(ids, skipSpecialTokens);
        return cleanUpTokenizationSpaces ?? CleanUpTokenizationSpaces ? DecoderCleanup.CleanupTransformers(text) : text;
    }

    /// <summary>Decodes each sequence of a batch (batch_decode).</summary>
    public string[] BatchDecode(IReadOnlyList<IReadOnlyList<int>> sequences, bool skipSpecialTokens = false,
        bool? cleanUpTokenizationSpaces = null) =>
        sequences.Select(s => Decode(s, skipSpecialTokens, cleanUpTokenizationSpaces)).ToArray();

    /// <summary>Decodes each row of a batch (batch_decode on input_ids).</summary>
    public string[] BatchDecode(int[][] sequences, bool skipSpecialTokens = false, bool? cleanUpTokenizationSpaces = null) =>
        sequences.Select(s => Decode(s, skipSpecialTokens, cleanUpTokenizationSpaces)).ToArray();

    /// <summary>The token of each id (convert_ids_to_tokens); special ones dropped with <paramref name="skipSpecialTokens"/>.</summary>
    public string[] ConvertIdsToTokens(IReadOnlyList<int> ids, bool skipSpecialTokens = false)
    {
        var special = skipSpecialTokens ? new HashSet<int>(AllSpecialIds) : null;
        var tokens = new List<string>(ids.Count);
        foreach (int id in ids)
        {
            if (special is not null && special.Contains(id)) continue;
            tokens.Add(ConvertIdToToken(id));
        }
        return tokens.ToArray();
    }

    /// <summary>
    /// The token of one id. An id outside the vocabulary gives the unknown token for vocab-file tokenizers (as the
    /// Python ones do) and throws for tokenizer.json ones.
    /// </summary>
    public string ConvertIdToToken(int id)
    {
        string? token = Pipeline.IdToToken(id);
        if (token is not null) return token;
        if (!IsFast && SpecialTokens.UnkToken is { } unk) return unk.Content;
        throw new ArgumentOutOfRangeException(nameof(id), id, $"id {id} is not in the vocabulary of {Count} tokens");
    }

    /// <summary>The id of each token (convert_tokens_to_ids); unknown tokens get the unknown token's id.</summary>
    public int[] ConvertTokensToIds(IReadOnlyList<string> tokens) => tokens.Select(ConvertTokenToId).ToArray();

    /// <summary>The id of one token; an unknown token gives the unknown token's id (or throws when there is none).</summary>
    public int ConvertTokenToId(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (Pipeline.TokenToId(token) is { } id) return id;
        if (UnkTokenId is { } unk) return unk;
        throw new KeyNotFoundException($"token '{token}' is not in the vocabulary and the tokenizer has no unknown token");
    }

    /// <summary>transformers' slow <c>_decode</c>: tokens, legacy added tokens kept apart, joined with spaces.</summary>
    private string DecodeSlow(IReadOnlyList<int> ids, bool skipSpecialTokens)
    {
        var tokens = ConvertIdsToTokens(ids, skipSpecialTokens);
        var specialTokens = new HashSet<string>(AllSpecialTokens, StringComparer.Ordinal);
        var legacyAdded = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (_, token) in AddedTokensDecoder)
        {
            if (!specialTokens.Contains(token.Content)) legacyAdded.Add(token.Content);
        }
        foreach (var token in SpecialTokens.AdditionalSpecialTokens)
        {
            if (ConvertTokenToId(token.Content) >= VocabSize) legacyAdded.Add(token.Content);
        }
        var subTexts = new List<string>();
        var current = new List<string>();
        foreach (string token in tokens)
        {
            if (legacyAdded.Contains(token))
            {
                if (current.Count > 0)
                {
                    string s = SlowDecoder!.ConvertTokensToString(current, this);
                    if (s.Length > 0) subTexts.Add(s);
                    current.Clear();
                }
                subTexts.Add(token);
            }
            else
            {
                current.Add(token);
            }
        }
        if (current.Count > 0) subTexts.Add(SlowDecoder!.ConvertTokensToString(current, this));
        return string.Join(' ', subTexts);
    }
}
