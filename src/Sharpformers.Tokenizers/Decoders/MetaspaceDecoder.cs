using Sharpformers.Tokenizers.PreTokenizers;

namespace Sharpformers.Tokenizers.Decoders;

/// <summary>
/// Turns the Metaspace replacement ('▁') back into spaces; in the first token it is dropped when a prefix was
/// prepended (Hugging Face's <c>Metaspace</c> decoder).
/// </summary>
public sealed class MetaspaceDecoder(char replacement = '▁', PrependScheme prependScheme = PrependScheme.Always, bool split = true) : IDecoder
{
    public char Replacement => replacement;

    public PrependScheme PrependScheme => prependScheme;

    public bool Split => split;

    public List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        for (int i = 0; i < tokens.Count; i++)
        {
            var sb = new System.Text.StringBuilder(tokens[i].Length);
            foreach (char c in tokens[i])
            {
                if (c != replacement) sb.Append(c);
                else if (!(i == 0 && prependScheme != PrependScheme.Never)) sb.Append(' ');
            }
            result.Add(sb.ToString());
        }
        return result;
    }
}
