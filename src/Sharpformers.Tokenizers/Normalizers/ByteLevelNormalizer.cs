using Sharpformers.Tokenizers.PreTokenizers;
using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.Normalizers;

/// <summary>Spells every UTF-8 byte with GPT-2's byte alphabet as a normalizer (Hugging Face's <c>ByteLevel</c> normalizer).</summary>
public sealed class ByteLevelNormalizer : INormalizer
{
    public void Normalize(NormalizedString text) => ByteLevelPreTokenizer.ToByteAlphabet(text);
}
