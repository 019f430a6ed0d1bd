namespace Sharpformers.Tokenizers.PostProcessors;

/// <summary>
/// &lt;s&gt; A &lt;/s&gt; and &lt;s&gt; A &lt;/s&gt;&lt;/s&gt; B &lt;/s&gt;, every type id 0, offsets trimmed of spaces
/// when <see cref="TrimOffsets"/> is set (Hugging Face's <c>RobertaProcessing</c>).
/// </summary>
public sealed class RobertaProcessing(string sepToken, int sepId, string clsToken, int clsId, bool trimOffsets = true,
    bool addPrefixSpace = true) : IPostProcessor
{
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
            int open = i == 0 ? clsId : sepId;
            string openToken = i == 0 ? clsToken : sepToken;
            result.Add(EncodingMerger.WrapWithOverflow(encodings[i], e => Encoding.Concat([
                EncodingMerger.Special([open], [openToken], 0), e, EncodingMerger.Special([sepId], [sepToken], 0)])));
        }
        return result;
    }
}
