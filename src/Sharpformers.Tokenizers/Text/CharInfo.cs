using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace Sharpformers.Tokenizers.Text;

/// <summary>
/// Character classes with the exact definitions Hugging Face uses. Categories follow Unicode 14 (the data
/// of the Python that produced the goldens): code points that newer Unicode assigned are reported as
/// unassigned (Cn), so "is control" and "is punctuation" agree with Python's <c>unicodedata</c>.
/// </summary>
public static class CharInfo
{
    private static readonly UnicodeCategory[] Latin1Categories = BuildLatin1();

    /// <summary>The general category of a code point as Unicode 14 defines it.</summary>
    public static UnicodeCategory Category(int codePoint)
    {
        if (codePoint < 256) return Latin1Categories[codePoint];
        if (codePoint is >= 0xD800 and <= 0xDFFF) return UnicodeCategory.Surrogate;
        var category = CharUnicodeInfo.GetUnicodeCategory(codePoint);
        if (category != UnicodeCategory.OtherNotAssigned && InRanges(UnicodeTables.UnassignedInUnicode14Ranges, codePoint))
        {
            return UnicodeCategory.OtherNotAssigned;
        }
        if (category != UnicodeCategory.NonSpacingMark && InRanges(UnicodeTables.NonspacingMarkInUnicode14Ranges, codePoint))
        {
            return UnicodeCategory.NonSpacingMark;
        }
        return category;
    }

    /// <summary>Rust's <c>char::is_whitespace</c> (the Unicode White_Space property).</summary>
    public static bool IsWhiteSpace(int c) => c switch
    {
        >= 0x09 and <= 0x0D => true,
        0x20 or 0x85 or 0xA0 or 0x1680 or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 => true,
        >= 0x2000 and <= 0x200A => true,
        _ => false,
    };

    /// <summary>Python's <c>str.isspace</c> for one character (what <c>str.split()</c> and <c>str.strip()</c> use).</summary>
    public static bool IsPythonSpace(int c) => c switch
    {
        >= 0x09 and <= 0x0D => true,
        >= 0x1C and <= 0x20 => true,
        0x85 or 0xA0 or 0x1680 or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 => true,
        >= 0x2000 and <= 0x200A => true,
        _ => false,
    };

    /// <summary>BERT's whitespace: tab, newline, carriage return, or a White_Space character.</summary>
    public static bool IsBertWhitespace(int c) => IsWhiteSpace(c);

    /// <summary>BERT's control characters: every "Other" category (Cc, Cf, Cn, Co, Cs) except tab, newline, carriage return.</summary>
    public static bool IsBertControl(int c)
    {
        if (c is '\t' or '\n' or '\r') return false;
        return IsOther(c);
    }

    /// <summary>General category C* (Cc, Cf, Cs, Co, Cn).</summary>
    public static bool IsOther(int c) => Category(c) is UnicodeCategory.Control or UnicodeCategory.Format
        or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned;

    /// <summary>BERT's punctuation: ASCII punctuation (including $, +, ^, ` ...) or any P* category.</summary>
    public static bool IsBertPunctuation(int c)
    {
        if (c is >= 33 and <= 47 or >= 58 and <= 64 or >= 91 and <= 96 or >= 123 and <= 126) return true;
        return IsPunctuationCategory(Category(c));
    }

    /// <summary>Any P* category.</summary>
    public static bool IsPunctuationCategory(UnicodeCategory category) => category is UnicodeCategory.ConnectorPunctuation
        or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation
        or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;

    /// <summary>
    /// The CJK ideograph blocks BERT isolates. <paramref name="pythonRanges"/> selects the ranges of the Python
    /// BertTokenizer, which include U+2B820..U+2B91F that the Rust normalizer leaves out.
    /// </summary>
    public static bool IsChineseChar(int cp, bool pythonRanges = false) => cp switch
    {
        >= 0x4E00 and <= 0x9FFF => true,
        >= 0x3400 and <= 0x4DBF => true,
        >= 0x20000 and <= 0x2A6DF => true,
        >= 0x2A700 and <= 0x2B73F => true,
        >= 0x2B740 and <= 0x2B81F => true,
        >= 0x2B820 and <= 0x2B91F => pythonRanges,
        >= 0x2B920 and <= 0x2CEAF => true,
        >= 0xF900 and <= 0xFAFF => true,
        >= 0x2F800 and <= 0x2FA1F => true,
        _ => false,
    };

    /// <summary>Letter categories (L*).</summary>
    public static bool IsLetter(int c) => Category(c) is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter
        or UnicodeCategory.TitlecaseLetter or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter;

    /// <summary>Number categories (N*): what regex <c>\p{N}</c> and Rust <c>char::is_numeric</c> match.</summary>
    public static bool IsNumber(int c) => Category(c) is UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber
        or UnicodeCategory.OtherNumber;

    /// <summary>Mark categories (Mn, Mc, Me).</summary>
    public static bool IsMark(int c) => Category(c) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark
        or UnicodeCategory.EnclosingMark;

    /// <summary>Nonspacing mark (Mn): what BERT strips after NFD.</summary>
    public static bool IsNonSpacingMark(int c) => Category(c) == UnicodeCategory.NonSpacingMark;

    /// <summary>A regex word character (<c>\w</c>): letters, marks, decimal digits, connector punctuation, joiners.</summary>
    public static bool IsWordChar(int c)
    {
        if (c < 128) return c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '_';
        if (c is 0x200C or 0x200D) return true;
        return Category(c) is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.NonSpacingMark
            or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark or UnicodeCategory.DecimalDigitNumber
            or UnicodeCategory.LetterNumber or UnicodeCategory.ConnectorPunctuation;
    }

    /// <summary>
    /// True when Unicode normalization can let <paramref name="c"/> interact with the code point before it: a
    /// non-zero combining class, a starter that is the second half of a canonical composition (some Indic vowel
    /// signs, Hangul vowel and trailing jamo), or a starter whose decomposition begins with a combining mark.
    /// Segments of text split before any other code point normalize independently.
    /// </summary>
    public static bool CanCombineWithPrevious(int c)
    {
        if (c < 0x300) return false;
        if (HasCombiningClass(c)) return true;
        return c is >= 0x1161 and <= 0x1175 or >= 0x11A8 and <= 0x11C2
            or 0x9BE or 0x9D7 or 0xB3E or 0xB56 or 0xB57 or 0xBBE or 0xBD7 or 0xCC2 or 0xCD5 or 0xCD6 or 0xD3E
            or 0xD57 or 0xDCF or 0xDDF or 0x102E or 0x1B35 or 0x11127 or 0x1133E or 0x11357 or 0x114B0 or 0x114BA
            or 0x114BD or 0x115AF or 0x11930 or 0xF73 or 0xF75 or 0xF81 or 0xFF9E or 0xFF9F;
    }

    /// <summary>Python's <c>unicodedata.combining(c) != 0</c>.</summary>
    public static bool HasCombiningClass(int c) => c >= 0x300 && InRanges(UnicodeTables.NonZeroCombiningClassRanges, c);

    /// <summary>
    /// Appends the full lowercase mapping of one code point without context, as Python's <c>str.lower()</c> on a
    /// single character and Rust's <c>char::to_lowercase</c> do (U+0130 becomes "i" + U+0307).
    /// </summary>
    public static int Lower(int codePoint, out int second)
    {
        second = codePoint == 0x130 ? 0x307 : -1;
        return LowerSimple(codePoint);
    }

    /// <summary>The simple lowercase mapping (one code point to one code point); U+0130 maps to 'i'.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int LowerSimple(int codePoint)
    {
        if (codePoint < 128) return codePoint is >= 'A' and <= 'Z' ? codePoint + 32 : codePoint;
        if (codePoint == 0x130) return 'i';
        if (codePoint is >= 0xD800 and <= 0xDFFF) return codePoint;
        return Rune.ToLowerInvariant(new Rune(codePoint)).Value;
    }

    /// <summary>Reads the code point at <paramref name="index"/>; a lone surrogate is returned as itself (length 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int CodePointAt(ReadOnlySpan<char> text, int index, out int length)
    {
        char c = text[index];
        if (char.IsHighSurrogate(c) && index + 1 < text.Length && char.IsLowSurrogate(text[index + 1]))
        {
            length = 2;
            return char.ConvertToUtf32(c, text[index + 1]);
        }
        length = 1;
        return c;
    }

    /// <summary>Number of code points in <paramref name="text"/> (a surrogate pair counts once).</summary>
    public static int CodePointCount(ReadOnlySpan<char> text)
    {
        int count = 0;
        for (int i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) i++;
            count++;
        }
        return count;
    }

    private static bool InRanges(ReadOnlySpan<int> ranges, int c)
    {
        // ranges holds (first, last) pairs sorted by first; binary search on the pair index.
        int lo = 0, hi = ranges.Length / 2 - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (c < ranges[2 * mid]) hi = mid - 1;
            else if (c > ranges[2 * mid + 1]) lo = mid + 1;
            else return true;
        }
        return false;
    }

    private static UnicodeCategory[] BuildLatin1()
    {
        var table = new UnicodeCategory[256];
        for (int i = 0; i < 256; i++) table[i] = CharUnicodeInfo.GetUnicodeCategory(i);
        return table;
    }
}
