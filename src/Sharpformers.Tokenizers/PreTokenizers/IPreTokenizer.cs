using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.PreTokenizers;

/// <summary>
/// The second stage: cuts the normalized text into words (splits) that the model then tokenizes one by one.
/// Implementations call <see cref="PreTokenizedString.SplitEach"/> and may also rewrite splits in place.
/// </summary>
public interface IPreTokenizer
{
    void PreTokenize(PreTokenizedString text);
}
