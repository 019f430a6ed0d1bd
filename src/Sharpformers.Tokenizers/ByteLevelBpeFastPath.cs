using Sharpformers.Tokenizers.Models;
using Sharpformers.Tokenizers.PreTokenizers;
using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers;

/// <summary>
/// The byte-level BPE pipeline (no normalizer, ByteLevel pre-tokenizer with the GPT-2 regex, BPE) fused
/// into one pass: each regex piece is spelled in the byte alphabet into a reused buffer and looked up in the
/// model's word cache, without building a NormalizedString per piece. It gives exactly what the general path
/// gives (tests compare both); text where the Python add_prefix_space would add a space takes the general path.
/// </summary>
internal sealed class ByteLevelBpeFastPath : IFusedEncoder
{
    private readonly BpeModel model;
    private readonly bool addPrefixSpace;
    private readonly bool pythonPrefixSpace;

    [ThreadStatic]
    private static Scratch? threadScratch;

    private ByteLevelBpeFastPath(BpeModel model, bool addPrefixSpace, bool pythonPrefixSpace)
    {
        this.model = model;
        this.addPrefixSpace = addPrefixSpace;
        this.pythonPrefixSpace = pythonPrefixSpace;
    }

    public static void TryInstall(TokenizerPipeline pipeline)
    {
        if (pipeline.Normalizer is not null) return;
        if (pipeline.PreTokenizer is not ByteLevelPreTokenizer { UseRegex: true } pre) return;
        if (pipeline.Model is not BpeModel { Dropout: null, EndOfWordSuffix: null or "" } bpe) return;
        if (bpe.ContinuingSubwordPrefix is { Length: > 0 } || bpe.ByteFallback) return;
        foreach (char c in ByteLevelAlphabet.Characters)
        {
            if (!bpe.Vocab.TryGetId(c.ToString(), out _)) return; // some byte would be unknown: leave it to the general path
        }
        pipeline.FastPath = new ByteLevelBpeFastPath(bpe, pre.AddPrefixSpace, pipeline.PythonAddPrefixSpace);
    }

    public bool TryEncode(string text, int start, int end, EncodingBuilder builder, ref int word)
    {
        // The Python tokenizers put a space before the whole text; the general path handles that.
        if (pythonPrefixSpace && text.Length > 0 && !CharInfo.IsPythonSpace(text[0])) return false;
        if (start == end) return true;
        var scratch = threadScratch ??= new Scratch();
        // The segment, with the space the ByteLevel pre-tokenizer prepends (aligned with the first character).
        bool prefix = addPrefixSpace && text[start] != ' ';
        int length = end - start + (prefix ? 1 : 0);
        scratch.EnsureText(length);
        int at = 0;
        if (prefix)
        {
            CharInfo.CodePointAt(text, start, out int firstLength);
            scratch.Text[0] = ' ';
            scratch.Starts[0] = start;
            scratch.Ends[0] = start + firstLength;
            at = 1;
        }
        for (int i = start; i < end;)
        {
            CharInfo.CodePointAt(text, i, out int len);
            for (int k = 0; k < len; k++)
            {
                scratch.Text[at + k] = text[i + k];
                scratch.Starts[at + k] = i;
                scratch.Ends[at + k] = i + len;
            }
            at += len;
            i += len;
        }
        var segment = scratch.Text.AsSpan(0, length);
        scratch.Matches.Clear();
        Gpt2Pattern.Instance.FindMatches(segment, scratch.Matches);
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var m in scratch.Matches)
        {
            if (m.End == m.Start) continue;
            // Spell the piece in the byte alphabet; each byte keeps the range of the character it came from.
            scratch.EnsureBytes((m.End - m.Start) * 3);
            int n = 0;
            for (int i = m.Start; i < m.End;)
            {
                int cp = CharInfo.CodePointAt(segment, i, out int len);
                int bytes = ByteLevelPreTokenizer.EncodeUtf8(cp, utf8);
                for (int k = 0; k < bytes; k++)
                {
                    scratch.Bytes[n] = ByteLevelAlphabet.ByteToChar(utf8[k]);
                    scratch.ByteStarts[n] = scratch.Starts[i];
                    scratch.ByteEnds[n] = scratch.Ends[i];
                    n++;
                }
                i += len;
            }
            scratch.Tokens.Clear();
            model.Tokenize(scratch.Bytes.AsSpan(0, n), scratch.Tokens);
            int w = word++;
            foreach (var t in scratch.Tokens)
            {
                builder.Add(t.Id, t.Value, scratch.ByteStarts[t.Start], scratch.ByteEnds[t.End - 1], w);
            }
        }
        return true;
    }

    /// <summary>Per-thread buffers, reused across calls.</summary>
    private sealed class Scratch
    {
        public char[] Text = new char[256];
        public int[] Starts = new int[256];
        public int[] Ends = new int[256];
        public char[] Bytes = new char[256];
        public int[] ByteStarts = new int[256];
        public int[] ByteEnds = new int[256];
        public readonly List<PatternMatch> Matches = new(64);
        public readonly List<Token> Tokens = new(16);

        public void EnsureText(int length)
        {
            if (Text.Length >= length) return;
            int size = Math.Max(length, Text.Length * 2);
            Text = new char[size];
            Starts = new int[size];
            Ends = new int[size];
        }

        public void EnsureBytes(int length)
        {
            if (Bytes.Length >= length) return;
            int size = Math.Max(length, Bytes.Length * 2);
            Bytes = new char[size];
            ByteStarts = new int[size];
            ByteEnds = new int[size];
        }
    }
}
