using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.PreTokenizers;

/// <summary>Runs several pre-tokenizers one after the other.</summary>
public sealed class SequencePreTokenizer(IReadOnlyList<IPreTokenizer> preTokenizers) : IPreTokenizer
{
    public IReadOnlyList<IPreTokenizer> PreTokenizers => preTokenizers;

    public void PreTokenize(PreTokenizedString text)
    {
        foreach (var p in preTokenizers) p.PreTokenize(text);
    }
}
