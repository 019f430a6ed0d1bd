namespace Sharpformers.Tokenizers.Decoders;

/// <summary>Replaces the end-of-word suffix ("&lt;/w&gt;") with a space, or nothing in the last token (Hugging Face's <c>BPEDecoder</c>).</summary>
public sealed class BpeDecoder(string suffix = "</w>") : IDecoder
{
    public string Suffix => suffix;

    public List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        for (int i = 0; i < tokens.Count; i++)
        {
            result.Add(tokens[i].Replace(suffix, i == tokens.Count - 1 ? "" : " ", StringComparison.Ordinal));
        }
        return result;
    }
}
