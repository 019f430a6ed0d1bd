using System.Text;
using Sharpformers.Tokenizers.Models;
using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.SentencePiece;

/// <summary>Splits normalized text into (start, end, piece id or -1 for unknown) segments.</summary>
internal abstract class SentencePieceSegmenter
{
    public abstract List<(int Start, int End, int Id)> Segment(string normalized, SentencePieceProcessor processor);
}

/// <summary>
/// SentencePiece's Unigram encoder (<c>unigram::Model::EncodeOptimized</c>): best path ending at each position,
/// float32 scores as in the C++ code, user-defined pieces favoured, unused pieces ignored, one unknown node per
/// character nothing else covers (scored min_score - 10).
/// </summary>
internal sealed class SentencePieceUnigram : SentencePieceSegmenter
{
    private const float UnkPenalty = 10.0f;
    private readonly CharTrie trie = new();
    private readonly float[] scores;
    private readonly float minScore;
    private readonly float maxScore;

    public SentencePieceUnigram(SentencePieceModelProto proto)
    {
        var pieces = proto.Pieces;
        scores = new float[pieces.Count];
        minScore = float.MaxValue;
        maxScore = float.MinValue;
        for (int i = 0; i < pieces.Count; i++)
        {
            var p = pieces[i];
            if (p.Type == SentencePieceType.Normal)
            {
                minScore = Math.Min(minScore, p.Score);
                maxScore = Math.Max(maxScore, p.Score);
            }
        }
        for (int i = 0; i < pieces.Count; i++)
        {
            var p = pieces[i];
            if (p.Type is not (SentencePieceType.Normal or SentencePieceType.UserDefined)) continue;
            // User-defined symbols get a bonus so they are always chosen (length counted in UTF-8 bytes).
            scores[i] = p.Type == SentencePieceType.UserDefined
                ? System.Text.Encoding.UTF8.GetByteCount(p.Piece) * maxScore - 0.1f
                : p.Score;
            trie.Add(p.Piece, i);
        }
    }

    public override List<(int Start, int End, int Id)> Segment(string text, SentencePieceProcessor processor)
    {
        int size = text.Length;
        var bestScore = new float[size + 1];
        var bestStart = new int[size + 1];
        var bestId = new int[size + 1];
        Array.Fill(bestStart, -1);
        float unkScore = minScore - UnkPenalty;
        var matches = new List<(int Value, int Length)>();
        int startsAt = 0;
        while (startsAt < size)
        {
            float scoreTillHere = bestScore[startsAt];
            bool hasSingleNode = false;
            CharInfo.CodePointAt(text, startsAt, out int charLength);
            matches.Clear();
            trie.CommonPrefixSearch(text.AsSpan(startsAt), matches);
            foreach (var (id, length) in matches)
            {
                int keyPos = startsAt + length;
                float candidate = scores[id] + scoreTillHere;
                if (bestStart[keyPos] < 0 || candidate > bestScore[keyPos])
                {
                    bestScore[keyPos] = candidate;
                    bestStart[keyPos] = startsAt;
                    bestId[keyPos] = id;
                }
                if (length == charLength) hasSingleNode = true;
            }
            if (!hasSingleNode)
            {
                int keyPos = startsAt + charLength;
                float candidate = unkScore + scoreTillHere;
                if (bestStart[keyPos] < 0 || candidate > bestScore[keyPos])
                {
                    bestScore[keyPos] = candidate;
                    bestStart[keyPos] = startsAt;
                    bestId[keyPos] = -1;
                }
            }
            startsAt += charLength;
        }
        var result = new List<(int, int, int)>();
        for (int end = size; end > 0; end = bestStart[end]) result.Add((bestStart[end], end, bestId[end]));
        result.Reverse();
        return result;
    }
}

/// <summary>
/// SentencePiece's BPE encoder (<c>bpe::Model::Encode</c>): start from characters (user-defined symbols kept
/// whole), repeatedly merge the adjacent pair whose merged piece has the highest score (leftmost on ties),
/// and split unused pieces back into the pieces they were merged from.
/// </summary>
internal sealed class SentencePieceBpe : SentencePieceSegmenter
{
    private readonly Dictionary<string, int> pieces = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> lookup;
    private readonly SentencePieceModelProto proto;
    private readonly List<string> userDefined = [];

    public SentencePieceBpe(SentencePieceModelProto proto)
    {
        this.proto = proto;
        for (int i = 0; i < proto.Pieces.Count; i++)
        {
            var p = proto.Pieces[i];
            if (p.Type is SentencePieceType.Normal or SentencePieceType.UserDefined or SentencePieceType.Unused) pieces[p.Piece] = i;
            if (p.Type == SentencePieceType.UserDefined) userDefined.Add(p.Piece);
        }
        lookup = pieces.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public override List<(int Start, int End, int Id)> Segment(string text, SentencePieceProcessor processor)
    {
        // Symbols as (start, end) ranges with linked neighbours.
        var starts = new List<int>();
        var ends = new List<int>();
        var frozen = new List<bool>();
        for (int i = 0; i < text.Length;)
        {
            int length = UserDefinedAt(text, i);
            bool freeze = length > 0;
            if (!freeze) CharInfo.CodePointAt(text, i, out length);
            starts.Add(i);
            ends.Add(i + length);
            frozen.Add(freeze);
            i += length;
        }
        int n = starts.Count;
        var prev = new int[n];
        var next = new int[n];
        for (int k = 0; k < n; k++)
        {
            prev[k] = k - 1;
            next[k] = k + 1 < n ? k + 1 : -1;
        }
        // Highest score first; on equal scores the leftmost pair (the C++ comparator).
        var agenda = new PriorityQueue<(int Left, int Right, int Size), (float NegScore, int Left)>();
        var revMerge = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
        void MaybeAdd(int left, int right)
        {
            if (left < 0 || right < 0 || frozen[left] || frozen[right]) return;
            var merged = text.AsSpan(starts[left], ends[right] - starts[left]);
            if (!lookup.TryGetValue(merged, out int id)) return;
            agenda.Enqueue((left, right, merged.Length), (-proto.Pieces[id].Score, left));
            if (proto.Pieces[id].Type == SentencePieceType.Unused)
            {
                revMerge[merged.ToString()] = (text[starts[left]..ends[left]], text[starts[right]..ends[right]]);
            }
        }
        for (int k = 1; k < n; k++) MaybeAdd(k - 1, k);
        while (agenda.TryDequeue(out var top, out _))
        {
            int l = top.Left, r = top.Right;
            if (starts[l] == ends[l] || starts[r] == ends[r] || (ends[l] - starts[l]) + (ends[r] - starts[r]) != top.Size) continue;
            if (next[l] != r) continue;
            ends[l] = ends[r];
            next[l] = next[r];
            if (next[r] >= 0) prev[next[r]] = l;
            starts[r] = ends[r];
            MaybeAdd(prev[l], l);
            MaybeAdd(l, next[l]);
        }
        var result = new List<(int, int, int)>();
        for (int k = 0; k >= 0 && k < n; k = next[k])
        {
            if (starts[k] == ends[k]) continue;
            Resegment(text[starts[k]..ends[k]], starts[k], processor, revMerge, result);
        }
        return result;
    }

    private void Resegment(string piece, int offset, SentencePieceProcessor processor,
        Dictionary<string, (string Left, string Right)> revMerge, List<(int, int, int)> output)
    {
        int id = processor.PieceToId(piece);
        bool known = id != proto.UnkId || piece == proto.Pieces[proto.UnkId].Piece;
        if (!known)
        {
            output.Add((offset, offset + piece.Length, -1));
            return;
        }
        if (proto.Pieces[id].Type != SentencePieceType.Unused || !revMerge.TryGetValue(piece, out var parts))
        {
            output.Add((offset, offset + piece.Length, id));
            return;
        }
        Resegment(parts.Left, offset, processor, revMerge, output);
        Resegment(parts.Right, offset + parts.Left.Length, processor, revMerge, output);
    }

    private int UserDefinedAt(string text, int i)
    {
        int best = 0;
        foreach (string u in userDefined)
        {
            if (u.Length > best && string.CompareOrdinal(text, i, u, 0, u.Length) == 0 && i + u.Length <= text.Length) best = u.Length;
        }
        return best;
    }
}
