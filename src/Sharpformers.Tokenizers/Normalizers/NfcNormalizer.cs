using System.Text;
using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.Normalizers;

/// <summary>Canonical composition (NFC), alignments kept (Hugging Face's <c>NFC</c>).</summary>
public sealed class NfcNormalizer : INormalizer
{
    public void Normalize(NormalizedString text) => text.Normalize(NormalizationForm.FormC);
}
