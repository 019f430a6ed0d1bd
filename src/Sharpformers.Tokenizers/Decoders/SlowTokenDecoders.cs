using Sharpformers.Tokenizers.PreTokenizers;
using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.Decoders;

/// <summary>The <c>convert_tokens_to_string</c> of a Python (slow) tokenizer class.</summary>
internal interface ISlowTokenDecoder
{
    string ConvertTokensToString(IReadOnlyList<string> tokens, PreTrainedTokenizer tokenizer);
}

/// <summary>Helpers with Python's string semantics.</summary>
internal static class PythonStrings
{
    /// <summary>Python's <c>str.strip()</c> (Unicode whitespace per <c>str.isspace</c>).</summary>
    public static string Strip(string s)
    {
        int start = 0, end = s.Length;
        while (start < end && CharInfo.IsPythonSpace(s[start])) start++;
        while (end > start && CharInfo.IsPythonSpace(s[end - 1])) end--;
        return start == 0 && end == s.Length ? s : s[start..end];
    }
}

/// <summary>BertTokenizer: <c>" ".join(tokens).replace(" ##", "").strip()</c>.</summary>
internal sealed class WordPieceSlowDecoder(string prefix = "##") : ISlowTokenDecoder
{
    public string ConvertTokensToString(IReadOnlyList<string> tokens, PreTrainedTokenizer tokenizer) =>
        PythonStrings.Strip(string.Join(' ', tokens).Replace(" " + prefix, "", StringComparison.Ordinal));
}

/// <summary>GPT2Tokenizer / RobertaTokenizer: byte-level characters back to bytes, decoded as UTF-8 with replacement.</summary>
internal sealed class ByteLevelSlowDecoder : ISlowTokenDecoder
{
    public string ConvertTokensToString(IReadOnlyList<string> tokens, PreTrainedTokenizer tokenizer)
    {
        var bytes = new List<byte>();
        foreach (string token in tokens)
        {
            foreach (char c in token)
            {
                int b = ByteLevelAlphabet.CharToByte(c);
                // Python raises KeyError for a character outside the alphabet; keep its UTF-8 bytes instead.
                if (b >= 0) bytes.Add((byte)b);
                else bytes.AddRange(System.Text.Encoding.UTF8.GetBytes(c.ToString()));
            }
        }
        return System.Text.Encoding.UTF8.GetString(bytes.ToArray());
    }
}

/// <summary>XLMRobertaTokenizer: <c>"".join(tokens).replace("▁", " ").strip()</c>.</summary>
internal sealed class MetaspaceSlowDecoder : ISlowTokenDecoder
{
    public string ConvertTokensToString(IReadOnlyList<string> tokens, PreTrainedTokenizer tokenizer) =>
        PythonStrings.Strip(string.Concat(tokens).Replace('▁', ' '));
}

/// <summary>
/// AlbertTokenizer / DebertaV2Tokenizer: runs of ordinary pieces go through SentencePiece's decoder, special
/// tokens are copied with a space before the first of a run; the result is stripped.
/// </summary>
internal sealed class SentencePieceSlowDecoder(SentencePiece.SentencePieceProcessor processor) : ISlowTokenDecoder
{
    public string ConvertTokensToString(IReadOnlyList<string> tokens, PreTrainedTokenizer tokenizer)
    {
        var special = new HashSet<string>(tokenizer.AllSpecialTokens, StringComparer.Ordinal);
        var current = new List<string>();
        var output = new System.Text.StringBuilder();
        bool previousIsSpecial = false;
        foreach (string token in tokens)
        {
            if (special.Contains(token))
            {
                if (!previousIsSpecial) output.Append(' ');
                output.Append(processor.DecodePieces(current)).Append(token);
                previousIsSpecial = true;
                current.Clear();
            }
            else
            {
                current.Add(token);
                previousIsSpecial = false;
            }
        }
        output.Append(processor.DecodePieces(current));
        return PythonStrings.Strip(output.ToString());
    }
}
