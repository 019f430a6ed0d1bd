using System.Globalization;
using System.Text;
using Sharpformers.Tokenizers.SentencePiece;
using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.Normalizers;

/// <summary>
/// SentencePiece's precompiled character map as Hugging Face's <c>Precompiled</c> normalizer applies it:
/// grapheme cluster by grapheme cluster, a cluster shorter than 6 UTF-8 bytes is looked up whole (first
/// trie match); otherwise, or when it has no rule, each code point is looked up on its own. This is the
/// normalizer of tokenizer.json files converted from SentencePiece models (ALBERT, XLM-R, T5...).
/// </summary>
public sealed class PrecompiledNormalizer(PrecompiledCharsMap charsMap) : INormalizer
{
    public PrecompiledCharsMap CharsMap => charsMap;

    public void Normalize(NormalizedString text)
    {
        var span = text.Normalized;
        if (span.IsEmpty) return;
        var w = text.BeginRewrite(text.Length + 8);
        bool modified = false;
        Span<byte> utf8 = stackalloc byte[64];
        int i = 0;
        while (i < span.Length)
        {
            int clusterLength = StringInfo.GetNextTextElementLength(span[i..]);
            if (clusterLength <= 0) clusterLength = 1;
            var cluster = span.Slice(i, clusterLength);
            int byteCount = System.Text.Encoding.UTF8.GetByteCount(cluster);
            if (byteCount < 6)
            {
                int written = System.Text.Encoding.UTF8.GetBytes(cluster, utf8);
                if (charsMap.TryTransformFirst(utf8[..written], out var replacement))
                {
                    modified = true;
                    AppendReplacement(text, i, i + clusterLength, replacement, ref w);
                    i += clusterLength;
                    continue;
                }
            }
            for (int k = i; k < i + clusterLength;)
            {
                CharInfo.CodePointAt(span, k, out int len);
                int written = System.Text.Encoding.UTF8.GetBytes(span.Slice(k, len), utf8);
                if (charsMap.TryTransformFirst(utf8[..written], out var replacement))
                {
                    modified = true;
                    AppendReplacement(text, k, k + len, replacement, ref w);
                }
                else
                {
                    for (int u = k; u < k + len; u++) w.Append(span[u], text.AlignmentStart(u), text.AlignmentEnd(u));
                }
                k += len;
            }
            i += clusterLength;
        }
        if (modified) text.Commit(ref w);
    }

    /// <summary>The k-th new code point aligns with the k-th replaced one; extras with the last replaced one.</summary>
    internal static void AppendReplacement(NormalizedString text, int from, int to, ReadOnlySpan<byte> replacement,
        ref NormalizedString.Rewriter w)
    {
        var span = text.Normalized;
        string replaced = System.Text.Encoding.UTF8.GetString(replacement);
        int src = from;
        int s = text.AlignmentStart(from), e = text.AlignmentEnd(from);
        for (int k = 0; k < replaced.Length;)
        {
            int cp = CharInfo.CodePointAt(replaced, k, out int len);
            if (src < to)
            {
                s = text.AlignmentStart(src);
                e = text.AlignmentEnd(src);
                CharInfo.CodePointAt(span, src, out int srcLen);
                src += srcLen;
            }
            w.AppendCodePoint(cp, s, e);
            k += len;
        }
    }
}
