namespace Sharpformers.Tokenizers.Decoders;

/// <summary>
/// The last stage, run by <c>Decode</c>: turns token strings back into text. Like Hugging Face's
/// <c>Decoder::decode_chain</c>, a decoder maps the list of token strings to a new list; the final text is
/// the concatenation of what the last decoder of a chain returns.
/// </summary>
public interface IDecoder
{
    List<string> DecodeChain(List<string> tokens);
}
