using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.Normalizers;

/// <summary>
/// Removes combining marks (Mn, Mc, Me), as Hugging Face's <c>StripAccents</c>; meant to follow NFD or NFKD.
/// </summary>
public sealed class StripAccentsNormalizer : INormalizer
{
    public void Normalize(NormalizedString text) => text.Filter(static c => !CharInfo.IsMark(c));
}
