using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.Normalizers;

/// <summary>Lowercases each character on its own (Rust's <c>char::to_lowercase</c>; U+0130 becomes "i̇").</summary>
public sealed class LowercaseNormalizer : INormalizer
{
    public void Normalize(NormalizedString text) => text.Lowercase();
}
