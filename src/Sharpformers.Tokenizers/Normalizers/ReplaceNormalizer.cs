using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.Normalizers;

/// <summary>Replaces every match of a string or regex with <see cref="Content"/> (Hugging Face's <c>Replace</c>).</summary>
public sealed class ReplaceNormalizer(SplitPattern pattern, string content) : INormalizer
{
    public SplitPattern Pattern => pattern;

    public string Content => content;

    public void Normalize(NormalizedString text) => text.Replace(pattern, content);
}
