using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.Normalizers;

/// <summary>
/// The first stage of the pipeline: rewrites the text (lowercasing, Unicode normalization, accent removal...)
/// while <see cref="NormalizedString"/> keeps track of where every character came from.
/// </summary>
public interface INormalizer
{
    void Normalize(NormalizedString text);
}
