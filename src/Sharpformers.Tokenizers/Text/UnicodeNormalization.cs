using System.Text;

namespace Sharpformers.Tokenizers.Text;

/// <summary>
/// NFC/NFD/NFKC/NFKD over a <see cref="NormalizedString"/> with alignments. The text is cut into segments
/// that normalize independently (a cut goes before every code point that cannot combine with what precedes
/// it). When a segment normalizes code point by code point, each output character aligns with the code point
/// it came from, as Hugging Face's aligned normalizer does; when composition or canonical reordering mixes
/// code points, the segment's output aligns with the whole segment.
/// </summary>
internal static class UnicodeNormalization
{
    public static void Apply(NormalizedString s, NormalizationForm form)
    {
        var text = s.Normalized;
        if (IsAscii(text)) return;
        if (IsNormalized(text, form)) return;

        var w = s.BeginRewrite(s.Length + 8);
        int i = 0;
        while (i < text.Length)
        {
            int segmentStart = i;
            CharInfo.CodePointAt(text, i, out int len);
            i += len;
            while (i < text.Length)
            {
                int next = CharInfo.CodePointAt(text, i, out int nextLen);
                if (!CharInfo.CanCombineWithPrevious(next)) break;
                i += nextLen;
            }
            AppendSegment(s, text, segmentStart, i, form, ref w);
        }
        s.Commit(ref w);
    }

    /// <summary>Normalizes a plain string (no alignments).</summary>
    public static string Normalize(string text, NormalizationForm form)
    {
        if (IsAscii(text)) return text;
        return text.Normalize(form);
    }

    private static void AppendSegment(NormalizedString s, ReadOnlySpan<char> text, int from, int to,
        NormalizationForm form, ref NormalizedString.Rewriter w)
    {
        var segment = text[from..to];
        if (segment.Length == 1 && segment[0] < 0x80)
        {
            w.Append(segment[0], s.AlignmentStart(from), s.AlignmentEnd(from));
            return;
        }
        string original = new(segment);
        string normalized = TryNormalize(original, form) ?? original;
        if (normalized == original)
        {
            for (int k = from; k < to; k++) w.Append(text[k], s.AlignmentStart(k), s.AlignmentEnd(k));
            return;
        }
        // Per code point: valid when the segment's normalization is the concatenation of its code points'.
        var pieces = new List<(string Text, int Source)>();
        int total = 0;
        for (int k = from; k < to;)
        {
            CharInfo.CodePointAt(text, k, out int len);
            string raw = new(text.Slice(k, len));
            string one = TryNormalize(raw, form) ?? raw;
            pieces.Add((one, k));
            total += one.Length;
            k += len;
        }
        if (total == normalized.Length && ConcatEquals(pieces, normalized))
        {
            foreach (var (piece, source) in pieces)
            {
                foreach (char c in piece) w.Append(c, s.AlignmentStart(source), s.AlignmentEnd(source));
            }
            return;
        }
        int start = s.AlignmentStart(from), end = s.AlignmentEnd(to - 1);
        foreach (char c in normalized) w.Append(c, start, end);
    }

    /// <summary>The runtime refuses ill-formed UTF-16 (lone surrogates); such text is left as it is.</summary>
    private static string? TryNormalize(string text, NormalizationForm form)
    {
        try
        {
            return text.Normalize(form);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static bool ConcatEquals(List<(string Text, int Source)> pieces, string whole)
    {
        int at = 0;
        foreach (var (piece, _) in pieces)
        {
            if (!whole.AsSpan(at, piece.Length).SequenceEqual(piece)) return false;
            at += piece.Length;
        }
        return true;
    }

    private static bool IsAscii(ReadOnlySpan<char> text) => System.Text.Ascii.IsValid(text);

    private static bool IsNormalized(ReadOnlySpan<char> text, NormalizationForm form)
    {
        try
        {
            return new string(text).IsNormalized(form);
        }
        catch (ArgumentException)
        {
            // Lone surrogates make the runtime refuse; the segment path copes with them one by one.
            return false;
        }
    }
}
