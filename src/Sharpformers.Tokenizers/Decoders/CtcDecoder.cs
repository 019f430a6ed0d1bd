namespace Sharpformers.Tokenizers.Decoders;

/// <summary>
/// Connectionist temporal classification output: repeated tokens collapse, the pad token disappears, the
/// word delimiter becomes a space (Hugging Face's <c>CTC</c> decoder).
/// </summary>
public sealed class CtcDecoder(string padToken = "<pad>", string wordDelimiterToken = "|", bool cleanup = true) : IDecoder
{
    public string PadToken => padToken;

    public string WordDelimiterToken => wordDelimiterToken;

    public bool Cleanup => cleanup;

    public List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        string? previous = null;
        foreach (string token in tokens)
        {
            if (token == previous) continue;
            previous = token;
            string t = token.Replace(padToken, "", StringComparison.Ordinal);
            if (cleanup) t = DecoderCleanup.CleanupRust(t).Replace(wordDelimiterToken, " ", StringComparison.Ordinal);
            if (t.Length > 0) result.Add(t);
        }
        return result;
    }
}
