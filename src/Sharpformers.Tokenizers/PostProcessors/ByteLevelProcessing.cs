namespace Sharpformers.Tokenizers.PostProcessors;

/// <summary>The byte-level post-processor: trims spaces out of the offsets, adds no tokens (Hugging Face's <c>ByteLevel</c>).</summary>
public sealed class ByteLevelProcessing(bool addPrefixSpace = true, bool trimOffsets = true, bool useRegex = true) : IPostProcessor
{
    public bool AddPrefixSpace => addPrefixSpace;

    public bool TrimOffsets => trimOffsets;

    public bool UseRegex => useRegex;

    public int AddedTokens(bool isPair) => 0;

    public List<Encoding> ProcessEncodings(List<Encoding> encodings, bool addSpecialTokens)
    {
        if (trimOffsets)
        {
            foreach (var e in encodings) ByteLevelOffsets.Trim(e, addPrefixSpace);
        }
        return encodings;
    }
}
