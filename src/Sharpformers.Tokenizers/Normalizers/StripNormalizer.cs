using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.Normalizers;

/// <summary>Removes leading and/or trailing whitespace (Hugging Face's <c>Strip</c>).</summary>
public sealed class StripNormalizer(bool left = true, bool right = true) : INormalizer
{
    public bool Left => left;

    public bool Right => right;

    public void Normalize(NormalizedString text) => text.Strip(left, right);
}
