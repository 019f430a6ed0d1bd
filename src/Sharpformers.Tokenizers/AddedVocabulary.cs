using Sharpformers.Tokenizers.Models;
using Sharpformers.Tokenizers.Normalizers;
using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers;

/// <summary>
/// The tokens added on top of a model's vocabulary (special tokens such as [CLS] and user additions) and the
/// first step of encoding: cutting them out of the text before the rest is normalized and tokenized, with
/// leftmost-longest matching and the single_word / lstrip / rstrip / normalized options.
/// </summary>
public sealed class AddedVocabulary
{
    private readonly Dictionary<string, int> contentToId = new(StringComparer.Ordinal);
    private readonly SortedDictionary<int, AddedToken> idToToken = new();
    private Matchers? matchers;

    /// <summary>
    /// Python (slow tokenizer) semantics: every added token is matched on the raw text whatever its
    /// <c>normalized</c> flag, whitespace is Python's, and a matched token keeps its content as its string.
    /// Off, the Rust semantics of tokenizer.json apply.
    /// </summary>
    public bool PythonSemantics { get; init; }

    /// <summary>All added tokens by id.</summary>
    public IReadOnlyDictionary<int, AddedToken> AddedTokensDecoder => idToToken;

    public int Count => idToToken.Count;

    public bool IsSpecialToken(string content) =>
        contentToId.TryGetValue(content, out int id) && idToToken[id].Special;

    public int? TokenToId(string content) => contentToId.TryGetValue(content, out int id) ? id : null;

    public AddedToken? IdToToken(int id) => idToToken.TryGetValue(id, out var t) ? t : null;

    /// <summary>
    /// Adds a token with a given id (as tokenizer.json and tokenizer_config.json list them). A token already
    /// present is updated.
    /// </summary>
    public void Add(AddedToken token, int id)
    {
        if (token.Content.Length == 0) return;
        if (contentToId.TryGetValue(token.Content, out int old) && old != id) idToToken.Remove(old);
        contentToId[token.Content] = id;
        idToToken[id] = token;
        matchers = null;
    }

    /// <summary>
    /// Adds a token whose id is its vocabulary id if the model has it, else the next free id after the model
    /// vocabulary and the existing added tokens (HF's <c>add_tokens</c>). Returns the id.
    /// </summary>
    public int Add(AddedToken token, ITokenizerModel model)
    {
        if (contentToId.TryGetValue(token.Content, out int existing))
        {
            Add(token, existing);
            return existing;
        }
        int id = model.TokenToId(token.Content) ?? NextId(model);
        Add(token, id);
        return id;
    }

    private int NextId(ITokenizerModel model)
    {
        int vocabSize = model.VocabSize;
        if (idToToken.Count == 0) return vocabSize;
        int max = idToToken.Keys.Max();
        return max >= vocabSize || vocabSize == 0 ? max + 1 : vocabSize;
    }

    /// <summary>
    /// Cuts the added tokens out of <paramref name="text"/> and normalizes the rest (HF's
    /// <c>extract_and_normalize</c>).
    /// </summary>
    internal void ExtractAndNormalize(INormalizer? normalizer, PreTokenizedString text)
    {
        var m = EnsureMatchers(normalizer);
        if (PythonSemantics)
        {
            text.ReplaceSplits(SplitWith(text.Splits[0].Normalized, m.Raw, python: true));
            text.NormalizeEach(s => normalizer?.Normalize(s));
            return;
        }
        text.ReplaceSplits(SplitWith(text.Splits[0].Normalized, m.Raw, python: false));
        var result = new List<Split>();
        foreach (var split in text.Splits)
        {
            if (split.Tokens is not null)
            {
                result.Add(split);
                continue;
            }
            normalizer?.Normalize(split.Normalized);
            if (m.Normalized.IsEmpty)
            {
                if (!split.Normalized.IsEmpty) result.Add(split);
                continue;
            }
            result.AddRange(SplitWith(split.Normalized, m.Normalized, python: false));
        }
        text.ReplaceSplits(result);
    }

    /// <summary>The segments of <paramref name="text"/> around added tokens: (start, end, id or -1), or null when it has none.</summary>
    internal List<(int Start, int End, int Id)>? FindInRawText(ReadOnlySpan<char> text, INormalizer? normalizer)
    {
        var m = EnsureMatchers(normalizer);
        if (m.Raw.IsEmpty) return null;
        var found = FindMatches(text, m.Raw, PythonSemantics);
        return found.Count == 1 && found[0].Id < 0 ? null : found;
    }

    /// <summary>True when some added token is matched after normalization (tokenizer.json semantics).</summary>
    internal bool HasNormalizedTokens(INormalizer? normalizer)
    {
        return !EnsureMatchers(normalizer).Normalized.IsEmpty;
    }

    private Matchers EnsureMatchers(INormalizer? normalizer)
    {
        var current = matchers;
        if (current is not null && ReferenceEquals(normalizer, current.Normalizer)) return current;
        var raw = new List<(string, int)>();
        var normalized = new List<(string, int)>();
        foreach (var (id, token) in idToToken)
        {
            if (PythonSemantics || !token.Normalized)
            {
                raw.Add((token.Content, id));
            }
            else
            {
                var ns = new NormalizedString(token.Content);
                normalizer?.Normalize(ns);
                if (!ns.IsEmpty) normalized.Add((ns.ToString(), id));
            }
        }
        current = new Matchers(new TokenMatcher(raw), new TokenMatcher(normalized), normalizer);
        matchers = current;
        return current;
    }

    private sealed record Matchers(TokenMatcher Raw, TokenMatcher Normalized, INormalizer? Normalizer);

    private List<Split> SplitWith(NormalizedString s, TokenMatcher matcher, bool python)
    {
        var result = new List<Split>();
        foreach (var (start, end, id) in FindMatches(s.Normalized, matcher, python))
        {
            var slice = s.Slice(start, end);
            if (id >= 0)
            {
                string value = python ? idToToken[id].Content : slice.ToString();
                result.Add(new Split(slice, [new Token(id, value, 0, slice.Length)]));
            }
            else if (!slice.IsEmpty)
            {
                result.Add(new Split(slice));
            }
        }
        return result;
    }

    /// <summary>HF's <c>find_matches</c>: the pieces of the text, added tokens flagged with their id.</summary>
    private List<(int Start, int End, int Id)> FindMatches(ReadOnlySpan<char> text, TokenMatcher matcher, bool python)
    {
        var splits = new List<(int Start, int End, int Id)>();
        if (text.IsEmpty)
        {
            splits.Add((0, 0, -1));
            return splits;
        }
        int startOffset = 0;
        int searchFrom = 0;
        while (matcher.FindNext(text, searchFrom, out int start, out int stop, out int id))
        {
            searchFrom = stop;
            var token = idToToken[id];
            if (token.SingleWord && !IsSingleWord(text, start, stop, python)) continue;
            if (token.LStrip)
            {
                int newStart = start;
                while (newStart > 0 && IsSpace(text[newStart - 1], python)) newStart--;
                start = Math.Max(newStart, startOffset);
            }
            if (token.RStrip)
            {
                while (stop < text.Length && IsSpace(text[stop], python)) stop++;
            }
            if (startOffset < start) splits.Add((startOffset, start, -1));
            splits.Add((start, stop, id));
            startOffset = stop;
            searchFrom = Math.Max(searchFrom, stop);
        }
        if (startOffset != text.Length) splits.Add((startOffset, text.Length, -1));
        return splits;
    }

    private static bool IsSpace(char c, bool python) => python ? CharInfo.IsPythonSpace(c) : CharInfo.IsWhiteSpace(c);

    private static bool IsSingleWord(ReadOnlySpan<char> text, int start, int stop, bool python)
    {
        if (python)
        {
            // transformers glues the token to a neighbour that is not separated by a space; treating it as no match
            // gives the same tokens for the common case of a word character next to it.
            bool leftOk = start == 0 || text[start - 1] == ' ';
            bool rightOk = stop == text.Length || text[stop] == ' ';
            return leftOk && rightOk;
        }
        bool startSpace = start == 0 || !CharInfo.IsWordChar(PreviousCodePoint(text, start));
        bool stopSpace = stop == text.Length || !CharInfo.IsWordChar(CharInfo.CodePointAt(text, stop, out _));
        return startSpace && stopSpace;
    }

    private static int PreviousCodePoint(ReadOnlySpan<char> text, int index)
    {
        int at = index - 1;
        if (at > 0 && char.IsLowSurrogate(text[at]) && char.IsHighSurrogate(text[at - 1])) at--;
        return CharInfo.CodePointAt(text, at, out _);
    }

    /// <summary>Leftmost-longest search over a set of literal strings.</summary>
    private sealed class TokenMatcher
    {
        private readonly Dictionary<long, int> edges = new();
        private readonly List<int> terminal = [-1];
        private readonly HashSet<char> firstChars = [];

        public TokenMatcher(List<(string Content, int Id)> tokens)
        {
            foreach (var (content, id) in tokens)
            {
                if (content.Length == 0) continue;
                firstChars.Add(content[0]);
                int node = 0;
                foreach (char c in content)
                {
                    long key = ((long)node << 16) | c;
                    if (!edges.TryGetValue(key, out int child))
                    {
                        child = terminal.Count;
                        terminal.Add(-1);
                        edges[key] = child;
                    }
                    node = child;
                }
                if (terminal[node] < 0) terminal[node] = id;
            }
        }

        public bool IsEmpty => firstChars.Count == 0;

        public bool FindNext(ReadOnlySpan<char> text, int from, out int start, out int end, out int id)
        {
            for (int i = from; i < text.Length; i++)
            {
                if (!firstChars.Contains(text[i])) continue;
                int node = 0;
                int bestEnd = -1, bestId = -1;
                for (int j = i; j < text.Length; j++)
                {
                    if (!edges.TryGetValue(((long)node << 16) | text[j], out node)) break;
                    if (terminal[node] >= 0)
                    {
                        bestEnd = j + 1;
                        bestId = terminal[node];
                    }
                }
                if (bestEnd > 0)
                {
                    start = i;
                    end = bestEnd;
                    id = bestId;
                    return true;
                }
            }
            start = end = id = -1;
            return false;
        }
    }
}
