namespace Sharpformers.Tokenizers.PostProcessors;

/// <summary>
/// &lt;s&gt; A &lt;/s&gt; and &lt;s&gt; A &lt;/s&gt;&lt;/s&gt; B &lt;/s&gt;, every type id 0, offsets trimmed of spaces
/// when <see cref="TrimOffsets"/> is set (Hugging Face's <c>RobertaProcessing</c>).
/// </summary>
public sealed class RobertaProcessing(string sepToken, int sepId, string clsToken, int clsId, bool trimOffsets = true,
    bool addPrefixSpace = true) : IPostProcessor
{
    // Shared, never modified: Encoding.Concat copies out of them.
    private readonly Encoding cls = EncodingMerger.Special([clsId], [clsToken], 0);
    private readonly Encoding sep = EncodingMerger.Special([sepId], [sepToken], 0);

    public (string Token, int Id) Sep => (sepToken, sepId);

    public (string Token, int Id) Cls => (clsToken, clsId);

    public bool TrimOffsets => trimOffsets;

    public bool AddPrefixSpace => addPrefixSpace;

    public int AddedTokens(bool isPair) => isPair ? 4 : 2;

    public List<Encoding> ProcessEncodings(List<Encoding> encodings, bool addSpecialTokens)
    {
        if (trimOffsets)
        {
            foreach (var e in encodings) ByteLevelOffsets.Trim(e, addPrefixSpace);
        }
        foreach (var e in encodings) e.SetTypeIds(0);
        if (!addSpecialTokens) return encodings;
        var result = new List<Encoding>(encodings.Count);
        for (int i = 0; i < encodings.Count; i++)
        {
            var open = i == 0 ? cls : sep;
            result.Add(EncodingMerger.WrapWithOverflow(encodings[i], e => Encoding.Concat([open, e, sep])));
        }
        return result;
    }
}
