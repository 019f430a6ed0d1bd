using System.Collections.Concurrent;
using System.Globalization;
using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.Models;

/// <summary>
/// Byte-pair encoding (Hugging Face's <c>BPE</c>): a word starts as its characters (the first may not carry
/// <see cref="ContinuingSubwordPrefix"/>, the last carries <see cref="EndOfWordSuffix"/>), then the adjacent
/// pair with the lowest merge rank is merged, leftmost first, until no merge applies. Characters missing from
/// the vocabulary become byte tokens (&lt;0x41&gt;) with <see cref="ByteFallback"/>, else the unknown token
/// (consecutive ones fused with <see cref="FuseUnk"/>).
/// </summary>
public sealed class BpeModel : ITokenizerModel
{
    /// <summary>Words kept in the cache (the Rust library keeps 10,000; a larger cache only saves time).</summary>
    private const int CacheCapacity = 100_000;

    [ThreadStatic]
    private static MergeScratch? threadScratch;
    private readonly Dictionary<long, (int Rank, int NewId)> merges;
    private readonly ConcurrentDictionary<string, Token[]>? cache;
    private readonly int unkId;

    /// <param name="vocab">Token to id.</param>
    /// <param name="merges">Merge rules in rank order (first = applied first).</param>
    /// <param name="source">Names the file in error messages.</param>
    public BpeModel(Vocabulary vocab, IReadOnlyList<(string Left, string Right)> merges, string? unkToken = null,
        string? continuingSubwordPrefix = null, string? endOfWordSuffix = null, bool fuseUnk = false,
        bool byteFallback = false, float? dropout = null, bool ignoreMerges = false, string source = "BPE model")
    {
        if (dropout is < 0 or > 1) throw new InvalidDataException($"{source}: dropout must be between 0 and 1, got {dropout}");
        Vocab = vocab;
        Merges = merges;
        UnkToken = unkToken;
        ContinuingSubwordPrefix = continuingSubwordPrefix;
        EndOfWordSuffix = endOfWordSuffix;
        FuseUnk = fuseUnk;
        ByteFallback = byteFallback;
        Dropout = dropout is 0 ? null : dropout;
        IgnoreMerges = ignoreMerges;
        unkId = unkToken is not null && vocab.TryGetId(unkToken, out int u) ? u : -1;
        this.merges = new Dictionary<long, (int, int)>(merges.Count);
        int prefixLength = continuingSubwordPrefix?.Length ?? 0;
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var (left, right) = merges[rank];
            if (!vocab.TryGetId(left, out int a))
            {
                throw new InvalidDataException($"{source}: merge {rank + 1} ('{left} {right}') uses '{left}', which is not in the vocabulary");
            }
            if (!vocab.TryGetId(right, out int b))
            {
                throw new InvalidDataException($"{source}: merge {rank + 1} ('{left} {right}') uses '{right}', which is not in the vocabulary");
            }
            string merged = prefixLength > 0 && right.StartsWith(continuingSubwordPrefix!, StringComparison.Ordinal)
                ? left + right[prefixLength..]
                : left + right;
            if (!vocab.TryGetId(merged, out int newId))
            {
                throw new InvalidDataException($"{source}: merge {rank + 1} ('{left} {right}') makes '{merged}', which is not in the vocabulary");
            }
            this.merges[Key(a, b)] = (rank, newId); // a repeated pair keeps its last rank, as a Python dict would
        }
        if (Dropout is null) cache = new ConcurrentDictionary<string, Token[]>(StringComparer.Ordinal);
    }

    public Vocabulary Vocab { get; }

    public IReadOnlyList<(string Left, string Right)> Merges { get; }

    public string? UnkToken { get; }

    public string? ContinuingSubwordPrefix { get; }

    public string? EndOfWordSuffix { get; }

    public bool FuseUnk { get; }

    public bool ByteFallback { get; }

    /// <summary>BPE-dropout probability (training-time augmentation); null means deterministic merges.</summary>
    public float? Dropout { get; }

    /// <summary>Return a word that is itself in the vocabulary without merging (Llama 3).</summary>
    public bool IgnoreMerges { get; }

    public int VocabSize => Vocab.Count;

    public int? TokenToId(string token) => Vocab.TokenToId(token);

    public string? IdToToken(int id) => Vocab.IdToToken(id);

    public IReadOnlyDictionary<string, int> GetVocab() => Vocab.TokenToIdMap;

    public void Tokenize(ReadOnlySpan<char> word, List<Token> output)
    {
        if (word.IsEmpty) return;
        if (IgnoreMerges && Vocab.TryGetId(word, out int whole))
        {
            output.Add(new Token(whole, Vocab.IdToToken(whole)!, 0, word.Length));
            return;
        }
        if (cache is not null && cache.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(word, out var cached))
        {
            output.AddRange(cached);
            return;
        }
        var tokens = MergeWord(word);
        if (cache is not null && cache.Count < CacheCapacity) cache.TryAdd(new string(word), tokens);
        output.AddRange(tokens);
    }

    private Token[] MergeWord(ReadOnlySpan<char> word)
    {
        var scratch = threadScratch ??= new MergeScratch();
        var symbols = scratch.Symbols;
        symbols.Clear();
        int pendingUnkStart = -1, pendingUnkEnd = -1;
        bool affixes = ContinuingSubwordPrefix is { Length: > 0 } || EndOfWordSuffix is { Length: > 0 };
        for (int i = 0; i < word.Length;)
        {
            CharInfo.CodePointAt(word, i, out int len);
            bool isFirst = i == 0;
            bool isLast = i + len == word.Length;
            int id;
            bool found;
            string? piece = null;
            if (!affixes)
            {
                found = Vocab.TryGetId(word.Slice(i, len), out id);
            }
            else
            {
                piece = new string(word.Slice(i, len));
                if (!isFirst && ContinuingSubwordPrefix is not null) piece = ContinuingSubwordPrefix + piece;
                if (isLast && EndOfWordSuffix is not null) piece += EndOfWordSuffix;
                found = Vocab.TryGetId(piece, out id);
            }
            if (found)
            {
                FlushUnk(symbols, ref pendingUnkStart, ref pendingUnkEnd);
                symbols.Add(new Symbol(id, i, i + len));
            }
            else if (ByteFallback && TryByteFallback(piece ?? new string(word.Slice(i, len)), i, i + len, symbols, ref pendingUnkStart, ref pendingUnkEnd))
            {
                // The bytes of the piece went in as byte tokens.
            }
            else if (UnkToken is not null)
            {
                if (unkId < 0) throw new InvalidOperationException($"BPE: the unknown token '{UnkToken}' is not in the vocabulary");
                if (pendingUnkStart >= 0 && FuseUnk)
                {
                    pendingUnkEnd = i + len;
                }
                else
                {
                    FlushUnk(symbols, ref pendingUnkStart, ref pendingUnkEnd);
                    pendingUnkStart = i;
                    pendingUnkEnd = i + len;
                }
            }
            i += len;
        }
        FlushUnk(symbols, ref pendingUnkStart, ref pendingUnkEnd);
        MergeAll(symbols, scratch);
        var result = new Token[symbols.Count];
        for (int k = 0; k < symbols.Count; k++)
        {
            var s = symbols[k];
            result[k] = new Token(s.Id, s.Id == unkId && UnkToken is not null ? UnkToken : Vocab.IdToToken(s.Id)!, s.Start, s.End);
        }
        return result;
    }

    private bool TryByteFallback(string piece, int start, int end, List<Symbol> symbols, ref int unkStart, ref int unkEnd)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(piece);
        var ids = new int[bytes.Length];
        for (int k = 0; k < bytes.Length; k++)
        {
            string byteToken = "<0x" + bytes[k].ToString("X2", CultureInfo.InvariantCulture) + ">";
            if (!Vocab.TryGetId(byteToken, out ids[k])) return false;
        }
        FlushUnk(symbols, ref unkStart, ref unkEnd);
        // Each byte token covers the whole character: offsets are in UTF-16 units, which cannot split a character.
        foreach (int id in ids) symbols.Add(new Symbol(id, start, end));
        return true;
    }

    private void FlushUnk(List<Symbol> symbols, ref int start, ref int end)
    {
        if (start < 0) return;
        symbols.Add(new Symbol(unkId, start, end));
        start = end = -1;
    }

    /// <summary>Applies merges lowest rank first, leftmost first among equal ranks (HF's <c>Word::merge_all</c>).</summary>
    private void MergeAll(List<Symbol> symbols, MergeScratch scratch)
    {
        int n = symbols.Count;
        if (n < 2) return;
        scratch.Ensure(n);
        var prev = scratch.Prev;
        var next = scratch.Next;
        var ids = scratch.Ids;
        var starts = scratch.Starts;
        var ends = scratch.Ends;
        var alive = scratch.Alive;
        for (int k = 0; k < n; k++)
        {
            prev[k] = k - 1;
            next[k] = k + 1 < n ? k + 1 : -1;
            ids[k] = symbols[k].Id;
            starts[k] = symbols[k].Start;
            ends[k] = symbols[k].End;
            alive[k] = true;
        }
        var queue = scratch.Queue;
        queue.Clear();
        for (int k = 0; k + 1 < n; k++)
        {
            if (merges.TryGetValue(Key(ids[k], ids[k + 1]), out var m)) queue.Enqueue((k, m.NewId), (m.Rank, k));
        }
        var skipped = Dropout is null ? null : new List<((int, int), (int, int))>();
        while (queue.TryDequeue(out var top, out var priority))
        {
            if (Dropout is { } p && Random.Shared.NextSingle() < p)
            {
                skipped!.Add((top, priority));
                continue;
            }
            if (skipped is { Count: > 0 })
            {
                foreach (var (e, pr) in skipped) queue.Enqueue(e, pr);
                skipped.Clear();
            }
            int pos = top.Pos;
            if (!alive[pos] || next[pos] < 0) continue;
            int right = next[pos];
            if (!merges.TryGetValue(Key(ids[pos], ids[right]), out var current) || current.NewId != top.NewId) continue;
            ids[pos] = top.NewId;
            ends[pos] = ends[right];
            alive[right] = false;
            next[pos] = next[right];
            if (next[right] >= 0) prev[next[right]] = pos;
            if (prev[pos] >= 0 && merges.TryGetValue(Key(ids[prev[pos]], ids[pos]), out var left))
            {
                queue.Enqueue((prev[pos], left.NewId), (left.Rank, prev[pos]));
            }
            if (next[pos] >= 0 && merges.TryGetValue(Key(ids[pos], ids[next[pos]]), out var after))
            {
                queue.Enqueue((pos, after.NewId), (after.Rank, pos));
            }
        }
        symbols.Clear();
        for (int k = 0; k < n; k++)
        {
            if (alive[k]) symbols.Add(new Symbol(ids[k], starts[k], ends[k]));
        }
    }

    /// <summary>Per-thread work buffers of the merge loop.</summary>
    private sealed class MergeScratch
    {
        public readonly List<Symbol> Symbols = new(32);
        public readonly PriorityQueue<(int Pos, int NewId), (int Rank, int Pos)> Queue = new(32);
        public int[] Prev = new int[32];
        public int[] Next = new int[32];
        public int[] Ids = new int[32];
        public int[] Starts = new int[32];
        public int[] Ends = new int[32];
        public bool[] Alive = new bool[32];

        public void Ensure(int n)
        {
            if (Prev.Length >= n) return;
            int size = Math.Max(n, Prev.Length * 2);
            Prev = new int[size];
            Next = new int[size];
            Ids = new int[size];
            Starts = new int[size];
            Ends = new int[size];
            Alive = new bool[size];
        }
    }

    private static long Key(int a, int b) => ((long)a << 32) | (uint)b;

    private readonly record struct Symbol(int Id, int Start, int End);
}
