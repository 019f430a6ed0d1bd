namespace Sharpformers.Tokenizers.Decoders;

/// <summary>Concatenates all tokens into one string (Hugging Face's <c>Fuse</c>).</summary>
public sealed class FuseDecoder : IDecoder
{
    public List<string> DecodeChain(List<string> tokens) => [string.Concat(tokens)];
}
