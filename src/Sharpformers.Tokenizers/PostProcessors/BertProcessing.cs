namespace Sharpformers.Tokenizers.PostProcessors;

/// <summary>[CLS] A [SEP] and [CLS] A [SEP] B [SEP], type ids 0 for A and 1 for B (Hugging Face's <c>BertProcessing</c>).</summary>
public sealed class BertProcessing(string sepToken, int sepId, string clsToken, int clsId) : IPostProcessor
{
    // Shared, never modified: Encoding.Concat copies out of them.
    private readonly Encoding cls = EncodingMerger.Special([clsId], [clsToken], 0);
    private readonly Encoding sep0 = EncodingMerger.Special([sepId], [sepToken], 0);
    private readonly Encoding sep1 = EncodingMerger.Special([sepId], [sepToken], 1);

    public (string Token, int Id) Sep => (sepToken, sepId);

    public (string Token, int Id) Cls => (clsToken, clsId);

    public int AddedTokens(bool isPair) => isPair ? 3 : 2;

    public List<Encoding> ProcessEncodings(List<Encoding> encodings, bool addSpecialTokens)
    {
        if (!addSpecialTokens) return encodings;
        var result = new List<Encoding>(encodings.Count);
        for (int i = 0; i < encodings.Count; i++)
        {
            if (i == 0)
            {
                result.Add(EncodingMerger.WrapWithOverflow(encodings[0], e => Encoding.Concat([cls, e, sep0])));
            }
            else
            {
                result.Add(EncodingMerger.WrapWithOverflow(encodings[i], e => Encoding.Concat([e, sep1])));
            }
        }
        return result;
    }
}
