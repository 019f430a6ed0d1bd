using System.Text;
using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.Normalizers;

/// <summary>Canonical decomposition (NFD), alignments kept (Hugging Face's <c>NFD</c>).</summary>
public sealed class NfdNormalizer : INormalizer
{
    public void Normalize(NormalizedString text) => text.Normalize(NormalizationForm.FormD);
}
