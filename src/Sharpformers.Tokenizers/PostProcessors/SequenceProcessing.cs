namespace Sharpformers.Tokenizers.PostProcessors;

/// <summary>Runs several post-processors in order, each on the previous one's output.</summary>
public sealed class SequenceProcessing(IReadOnlyList<IPostProcessor> processors) : IPostProcessor
{
    public IReadOnlyList<IPostProcessor> Processors => processors;

    public int AddedTokens(bool isPair)
    {
        int n = 0;
        foreach (var p in processors) n += p.AddedTokens(isPair);
        return n;
    }

    public List<Encoding> ProcessEncodings(List<Encoding> encodings, bool addSpecialTokens)
    {
        foreach (var p in processors) encodings = p.ProcessEncodings(encodings, addSpecialTokens);
        return encodings;
    }
}
