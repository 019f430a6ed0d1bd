using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.Normalizers;

/// <summary>Prepends a string to non-empty text (Hugging Face's <c>Prepend</c>, e.g. "▁" for Llama).</summary>
public sealed class PrependNormalizer(string prepend) : INormalizer
{
    public string Prepend => prepend;

    public void Normalize(NormalizedString text) => text.Prepend(prepend);
}
