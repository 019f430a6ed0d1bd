using System.Globalization;
using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.Models;

/// <summary>
/// The Unigram language model (Hugging Face's <c>Unigram</c>, SentencePiece's default): the segmentation of a
/// word with the highest total log-probability, found by Viterbi over every vocabulary piece that matches
/// at each position. A character no piece covers costs the lowest score minus 10 and becomes the unknown
/// token; consecutive unknown characters are fused into one. With <see cref="ByteFallback"/>, unknown pieces
/// are spelled as byte tokens (&lt;0xE2&gt;...) when the vocabulary has them.
/// </summary>
public sealed class UnigramModel : ITokenizerModel
{
    private const double UnkPenalty = 10.0;
    private readonly CharTrie trie = new();
    private readonly Dictionary<string, int> tokenToId;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> lookup;
    private readonly double minScore;

    public UnigramModel(IReadOnlyList<(string Piece, double Score)> vocab, int? unkId, bool byteFallback = false,
        string source = "Unigram model")
    {
        if (vocab.Count == 0) throw new InvalidDataException($"{source}: the vocabulary is empty");
        if (unkId is { } u && (u < 0 || u >= vocab.Count))
        {
            throw new InvalidDataException($"{source}: unk_id {u} is outside the vocabulary of {vocab.Count} pieces");
        }
        Pieces = vocab;
        UnkId = unkId;
        ByteFallback = byteFallback;
        tokenToId = new Dictionary<string, int>(vocab.Count, StringComparer.Ordinal);
        minScore = double.PositiveInfinity;
        for (int id = 0; id < vocab.Count; id++)
        {
            var (piece, score) = vocab[id];
            tokenToId.TryAdd(piece, id);
            minScore = Math.Min(minScore, score);
            trie.Add(piece, id);
        }
        lookup = tokenToId.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public IReadOnlyList<(string Piece, double Score)> Pieces { get; }

    public int? UnkId { get; }

    public bool ByteFallback { get; }

    public int VocabSize => Pieces.Count;

    public int? TokenToId(string token) => tokenToId.TryGetValue(token, out int id) ? id : null;

    public string? IdToToken(int id) => (uint)id < (uint)Pieces.Count ? Pieces[id].Piece : null;

    public IReadOnlyDictionary<string, int> GetVocab() => tokenToId;

    public void Tokenize(ReadOnlySpan<char> word, List<Token> output)
    {
        if (word.IsEmpty) return;
        var segments = Encode(word);
        foreach (var (start, end) in segments)
        {
            var piece = word[start..end];
            if (lookup.TryGetValue(piece, out int id))
            {
                output.Add(new Token(id, Pieces[id].Piece, start, end));
                continue;
            }
            string text = new(piece);
            if (ByteFallback && TryBytes(text, start, end, output)) continue;
            if (UnkId is not { } unk) throw new InvalidOperationException("Unigram: a piece is unknown and the model has no unk_id");
            output.Add(new Token(unk, text, start, end));
        }
    }

    private bool TryBytes(string piece, int start, int end, List<Token> output)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(piece);
        var tokens = new Token[bytes.Length];
        for (int k = 0; k < bytes.Length; k++)
        {
            string name = "<0x" + bytes[k].ToString("X2", CultureInfo.InvariantCulture) + ">";
            if (!tokenToId.TryGetValue(name, out int id)) return false;
            tokens[k] = new Token(id, Pieces[id].Piece, start, end);
        }
        output.AddRange(tokens);
        return true;
    }

    /// <summary>The best segmentation as [start, end) ranges, unknown runs fused (HF's <c>encode_optimized</c>).</summary>
    private List<(int Start, int End)> Encode(ReadOnlySpan<char> text)
    {
        int size = text.Length;
        var bestScore = new double[size + 1];
        var bestStart = new int[size + 1];
        var bestId = new int[size + 1];
        Array.Fill(bestStart, -1);
        double unkScore = minScore - UnkPenalty;
        var matches = new List<(int Value, int Length)>();
        int startsAt = 0;
        while (startsAt < size)
        {
            double scoreTillHere = bestScore[startsAt];
            bool hasSingleNode = false;
            CharInfo.CodePointAt(text, startsAt, out int charLength);
            matches.Clear();
            trie.CommonPrefixSearch(text[startsAt..], matches);
            foreach (var (id, length) in matches)
            {
                // A piece may end inside a surrogate pair only if the vocabulary is ill-formed; skip such matches.
                int keyPos = startsAt + length;
                if (keyPos < size && char.IsLowSurrogate(text[keyPos]) && char.IsHighSurrogate(text[keyPos - 1])) continue;
                double candidate = Pieces[id].Score + scoreTillHere;
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
                double candidate = unkScore + scoreTillHere;
                if (bestStart[keyPos] < 0 || candidate > bestScore[keyPos])
                {
                    bestScore[keyPos] = candidate;
                    bestStart[keyPos] = startsAt;
                    bestId[keyPos] = UnkId ?? -1;
                }
            }
            startsAt += charLength;
        }
        var result = new List<(int Start, int End)>();
        int endsAt = size;
        int fusedEnd = -1;
        while (endsAt > 0)
        {
            int start = bestStart[endsAt];
            bool isUnk = UnkId is not null && bestId[endsAt] == UnkId;
            if (isUnk)
            {
                if (fusedEnd < 0) fusedEnd = endsAt;
            }
            else
            {
                if (fusedEnd >= 0)
                {
                    result.Add((endsAt, fusedEnd));
                    fusedEnd = -1;
                }
                result.Add((start, endsAt));
            }
            endsAt = start;
        }
        if (fusedEnd >= 0) result.Add((0, fusedEnd));
        result.Reverse();
        return result;
    }
}
