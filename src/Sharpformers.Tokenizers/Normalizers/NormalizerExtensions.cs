using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.Normalizers;

public static class NormalizerExtensions
{
    /// <summary>Normalizes a string on its own (Hugging Face's <c>normalize_str</c>).</summary>
    public static string NormalizeString(this INormalizer normalizer, string text)
    {
        var s = new NormalizedString(text);
        normalizer.Normalize(s);
        return s.ToString();
    }
}
