using System.Text;
using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.Normalizers;

/// <summary>Compatibility composition (NFKC), alignments kept (Hugging Face's <c>NFKC</c>).</summary>
public sealed class NfkcNormalizer : INormalizer
{
    public void Normalize(NormalizedString text) => text.Normalize(NormalizationForm.FormKC);
}
