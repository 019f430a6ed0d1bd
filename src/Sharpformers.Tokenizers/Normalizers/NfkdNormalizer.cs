using System.Text;
using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.Normalizers;

/// <summary>Compatibility decomposition (NFKD), alignments kept (Hugging Face's <c>NFKD</c>).</summary>
public sealed class NfkdNormalizer : INormalizer
{
    public void Normalize(NormalizedString text) => text.Normalize(NormalizationForm.FormKD);
}
