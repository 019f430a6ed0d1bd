using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.Normalizers;

/// <summary>Runs several normalizers one after the other.</summary>
public sealed class SequenceNormalizer(IReadOnlyList<INormalizer> normalizers) : INormalizer
{
    public IReadOnlyList<INormalizer> Normalizers => normalizers;

    public void Normalize(NormalizedString text)
    {
        foreach (var n in normalizers) n.Normalize(text);
    }
}
