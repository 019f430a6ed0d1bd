using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.Decoders;

/// <summary>Replaces a string or regex in each token (Hugging Face's <c>Replace</c> decoder, e.g. "▁" → " ").</summary>
public sealed class ReplaceDecoder(SplitPattern pattern, string content) : IDecoder
{
    public SplitPattern Pattern => pattern;

    public string Content => content;

    public List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        var matches = new List<PatternMatch>();
        foreach (string token in tokens)
        {
            matches.Clear();
            pattern.FindMatches(token, matches);
            var sb = new System.Text.StringBuilder(token.Length);
            foreach (var m in matches)
            {
                if (m.IsMatch) sb.Append(content);
                else sb.Append(token, m.Start, m.End - m.Start);
            }
            result.Add(sb.ToString());
        }
        return result;
    }
}
