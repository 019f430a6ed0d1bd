namespace Sharpformers.Tokenizers.Decoders;

/// <summary>
/// Joins WordPiece tokens: a token with the prefix ("##") sticks to the previous one, others get a space
/// before them; each token is then cleaned up when <see cref="Cleanup"/> is set (Hugging Face's <c>WordPiece</c> decoder).
/// </summary>
public sealed class WordPieceDecoder(string prefix = "##", bool cleanup = true) : IDecoder
{
    public string Prefix => prefix;

    public bool Cleanup => cleanup;

    public List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        for (int i = 0; i < tokens.Count; i++)
        {
            string token = tokens[i];
            if (i != 0)
            {
                token = token.StartsWith(prefix, StringComparison.Ordinal) ? token[prefix.Length..] : " " + token;
            }
            if (cleanup) token = DecoderCleanup.CleanupRust(token);
            result.Add(token);
        }
        return result;
    }
}
