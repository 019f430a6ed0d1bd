using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Sharpformers.Tokenizers.Models;
using Sharpformers.Tokenizers.Normalizers;
using Sharpformers.Tokenizers.PreTokenizers;
using Sharpformers.Tokenizers.SentencePiece;
using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers;

/// <summary>
/// The BERT pipeline (BertNormalizer or the Python BasicTokenizer's normalization, BertPreTokenizer,
/// WordPiece) fused into one pass over the text with no per-character allocation.
/// <para>
/// Why it is exact: each of these normalizers transforms characters one at a time, except where Unicode
/// normalization lets a character combine with the one before it. The fused pass therefore asks the real
/// normalizer, once per distinct character, what that character becomes (cached in a table), and leaves any
/// text containing a character that can combine with its predecessor to the general path. Splitting and
/// WordPiece then run on the per-character outputs exactly as the general path runs them on the whole
/// normalized text. Tests compare both paths on the goldens and on whole datasets.
/// </para>
/// </summary>
internal sealed class BertFastPath : IFusedEncoder
{
    private const byte KindUnknown = 0;
    private const byte KindSimple = 1; // output is one BMP char (possibly the same), stored in simpleOutput
    private const byte KindRemoved = 2; // output is empty
    private const byte KindString = 3; // output is a string in stringOutput
    private const byte KindComplex = 4; // needs the general path

    // Classes of normalized characters for the pre-tokenizer.
    private const byte ClassWord = 0;
    private const byte ClassSpace = 1;
    private const byte ClassPunct = 2;

    private readonly INormalizer? normalizer;
    private readonly WordPieceModel model;
    private readonly byte[] kinds = new byte[65536];
    private readonly char[] simpleOutput = new char[65536];
    private readonly string?[] stringOutput = new string?[65536];
    private readonly byte[] classes = new byte[65536];
    private readonly ConcurrentDictionary<int, (byte Kind, string Output, byte Class)> astral = new();
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> startLookup;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> continuationLookup;
    private readonly int maxStart;
    private readonly int maxContinuation;
    private readonly int unkId;
    private readonly string[] idToToken;

    [ThreadStatic]
    private static WordBuffer? threadBuffer;

    private BertFastPath(INormalizer? normalizer, WordPieceModel model)
    {
        this.normalizer = normalizer;
        this.model = model;
        for (int c = 0; c < 65536; c++)
        {
            classes[c] = char.IsSurrogate((char)c) ? ClassWord
                : CharInfo.IsWhiteSpace(c) ? ClassSpace
                : CharInfo.IsBertPunctuation(c) ? ClassPunct
                : ClassWord;
        }
        for (int c = 0; c < 128; c++) Compute(c);
        var starts = new Dictionary<string, int>(StringComparer.Ordinal);
        var continuations = new Dictionary<string, int>(StringComparer.Ordinal);
        idToToken = new string[model.Vocab.IdLimit];
        foreach (var (token, id) in model.Vocab.TokenToIdMap)
        {
            starts[token] = id;
            maxStart = Math.Max(maxStart, token.Length);
            if (token.StartsWith(model.ContinuingSubwordPrefix, StringComparison.Ordinal))
            {
                string rest = token[model.ContinuingSubwordPrefix.Length..];
                continuations[rest] = id;
                maxContinuation = Math.Max(maxContinuation, rest.Length);
            }
        }
        for (int id = 0; id < idToToken.Length; id++) idToToken[id] = model.Vocab.IdToToken(id) ?? "";
        startLookup = starts.GetAlternateLookup<ReadOnlySpan<char>>();
        continuationLookup = continuations.GetAlternateLookup<ReadOnlySpan<char>>();
        unkId = model.Vocab.TryGetId(model.UnkToken, out int u) ? u : -1;
    }

    /// <summary>Installs the fused path when the pipeline is a BERT pipeline it reproduces exactly.</summary>
    public static void TryInstall(TokenizerPipeline pipeline)
    {
        if (pipeline.Model is not WordPieceModel { NeverSplit: null or { Count: 0 } } model) return;
        if (pipeline.PreTokenizer is not BertPreTokenizer { NeverSplit: null or { Count: 0 } }) return;
        if (pipeline.Normalizer is not null && !IsCharwise(pipeline.Normalizer)) return;
        if (model.Vocab.TryGetId(model.UnkToken, out _) == false) return;
        pipeline.FastPath = new BertFastPath(pipeline.Normalizer, model);
    }

    /// <summary>Normalizers that transform characters independently, apart from Unicode normalization's combining.</summary>
    private static bool IsCharwise(INormalizer n) => n switch
    {
        BertNormalizer or NfcNormalizer or NfdNormalizer or NfkcNormalizer or NfkdNormalizer or LowercaseNormalizer
            or StripAccentsNormalizer or Serialization.NonSpacingMarkFilter => true,
        SequenceNormalizer s => s.Normalizers.All(IsCharwise),
        _ => false,
    };

    public bool TryEncode(string text, int start, int end, EncodingBuilder builder, ref int word)
    {
        var buffer = threadBuffer ??= new WordBuffer();
        buffer.Clear();
        int mark = builder.Count;
        int startWord = word;
        int i = start;
        while (i < end)
        {
            char c = text[i];
            byte kind = Volatile.Read(ref kinds[c]);
            if (kind == KindUnknown) kind = Compute(c);
            if (kind == KindSimple)
            {
                Emit(simpleOutput[c], i, i + 1, buffer, builder, ref word);
                i++;
                continue;
            }
            if (kind == KindRemoved)
            {
                i++;
                continue;
            }
            if (kind == KindString)
            {
                foreach (char o in stringOutput[c]!) Emit(o, i, i + 1, buffer, builder, ref word);
                i++;
                continue;
            }
            if (char.IsHighSurrogate(c) && i + 1 < end && char.IsLowSurrogate(text[i + 1]))
            {
                int cp = char.ConvertToUtf32(c, text[i + 1]);
                var (astralKind, output, cls) = astral.GetOrAdd(cp, ComputeAstral);
                if (astralKind == KindRemoved)
                {
                    i += 2;
                    continue;
                }
                if (astralKind == KindString)
                {
                    foreach (char o in output) Emit(o, i, i + 2, buffer, builder, ref word);
                    i += 2;
                    continue;
                }
                if (astralKind == KindSimple)
                {
                    // One supplementary code point: a word character or an isolated punctuation mark.
                    if (cls == ClassPunct) FlushWord(buffer, builder, ref word);
                    buffer.Add(output[0], i, i + 2);
                    buffer.Add(output[1], i, i + 2);
                    if (cls == ClassPunct) FlushWord(buffer, builder, ref word);
                    i += 2;
                    continue;
                }
            }
            // A character that can combine with its neighbour: let the general path do it all.
            builder.Truncate(mark);
            word = startWord;
            return false;
        }
        FlushWord(buffer, builder, ref word);
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Emit(char o, int sourceStart, int sourceEnd, WordBuffer buffer, EncodingBuilder builder, ref int word)
    {
        byte cls = classes[o];
        if (cls == ClassWord)
        {
            buffer.Add(o, sourceStart, sourceEnd);
            return;
        }
        FlushWord(buffer, builder, ref word);
        if (cls == ClassPunct)
        {
            buffer.Add(o, sourceStart, sourceEnd);
            FlushWord(buffer, builder, ref word);
        }
    }

    /// <summary>WordPiece on the buffered word (greedy longest match), exactly as <see cref="WordPieceModel"/>.</summary>
    private void FlushWord(WordBuffer buffer, EncodingBuilder builder, ref int word)
    {
        int n = buffer.Length;
        if (n == 0) return;
        var chars = buffer.Chars.AsSpan(0, n);
        int w = word++;
        if (n > model.MaxInputCharsPerWord && CharInfo.CodePointCount(chars) > model.MaxInputCharsPerWord)
        {
            builder.Add(unkId, model.UnkToken, buffer.Starts[0], buffer.Ends[n - 1], w);
            buffer.Clear();
            return;
        }
        int mark = builder.Count;
        int start = 0;
        while (start < n)
        {
            int end = Math.Min(n, start + (start == 0 ? maxStart : maxContinuation));
            if (end < n && end > start && char.IsLowSurrogate(chars[end]) && char.IsHighSurrogate(chars[end - 1])) end--;
            int found = -1;
            while (end > start)
            {
                var piece = chars[start..end];
                if (start == 0 ? startLookup.TryGetValue(piece, out found) : continuationLookup.TryGetValue(piece, out found)) break;
                found = -1;
                end--;
                if (end > start && char.IsLowSurrogate(chars[end]) && char.IsHighSurrogate(chars[end - 1])) end--;
            }
            if (found < 0)
            {
                builder.Truncate(mark);
                builder.Add(unkId, model.UnkToken, buffer.Starts[0], buffer.Ends[n - 1], w);
                buffer.Clear();
                return;
            }
            builder.Add(found, idToToken[found], buffer.Starts[start], buffer.Ends[end - 1], w);
            start = end;
        }
        buffer.Clear();
    }

    /// <summary>What the normalizer makes of one BMP character, cached.</summary>
    private byte Compute(int c)
    {
        byte kind;
        string output = "";
        if (char.IsSurrogate((char)c) || CharInfo.CanCombineWithPrevious(c))
        {
            kind = KindComplex;
        }
        else
        {
            output = NormalizeOne(((char)c).ToString());
            kind = output.Length == 0 ? KindRemoved
                : output.Length == 1 && !char.IsSurrogate(output[0]) ? KindSimple
                : KindString;
            if (kind == KindString && !IsSafeOutput(output)) kind = KindComplex;
        }
        simpleOutput[c] = kind == KindSimple ? output[0] : '\0';
        stringOutput[c] = kind == KindString ? output : null;
        Volatile.Write(ref kinds[c], kind);
        return kind;
    }

    /// <summary>
    /// What the normalizer makes of a supplementary character: nothing, BMP characters, or one supplementary
    /// code point (kept as a surrogate pair, classified as a whole).
    /// </summary>
    private (byte, string, byte) ComputeAstral(int cp)
    {
        if (CharInfo.CanCombineWithPrevious(cp)) return (KindComplex, "", ClassWord);
        string output = NormalizeOne(char.ConvertFromUtf32(cp));
        if (output.Length == 0) return (KindRemoved, "", ClassWord);
        if (IsSafeOutput(output)) return (KindString, output, ClassWord);
        if (output.Length == 2 && char.IsHighSurrogate(output[0]) && char.IsLowSurrogate(output[1]))
        {
            int o = char.ConvertToUtf32(output[0], output[1]);
            if (CharInfo.IsWhiteSpace(o)) return (KindComplex, "", ClassWord);
            return (KindSimple, output, CharInfo.IsBertPunctuation(o) ? ClassPunct : ClassWord);
        }
        return (KindComplex, "", ClassWord);
    }

    /// <summary>Outputs with surrogate pairs are classified per UTF-16 unit above, so only BMP outputs are fused.</summary>
    private static bool IsSafeOutput(string output)
    {
        foreach (char o in output)
        {
            if (char.IsSurrogate(o)) return false;
        }
        return true;
    }

    private string NormalizeOne(string s)
    {
        if (normalizer is null) return s;
        var ns = new NormalizedString(s);
        normalizer.Normalize(ns);
        return ns.ToString();
    }

    /// <summary>The word being built: normalized characters and the original range each came from.</summary>
    private sealed class WordBuffer
    {
        public char[] Chars = new char[64];
        public int[] Starts = new int[64];
        public int[] Ends = new int[64];
        public int Length;

        public void Clear() => Length = 0;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Add(char c, int start, int end)
        {
            if (Length == Chars.Length)
            {
                Array.Resize(ref Chars, Length * 2);
                Array.Resize(ref Starts, Length * 2);
                Array.Resize(ref Ends, Length * 2);
            }
            Chars[Length] = c;
            Starts[Length] = start;
            Ends[Length] = end;
            Length++;
        }
    }
}
