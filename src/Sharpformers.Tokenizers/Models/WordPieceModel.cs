using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.Models;

/// <summary>
/// WordPiece (BERT): greedy longest-match-first from the start of the word; pieces after the first carry the
/// continuing-subword prefix ("##"). A word with a part that matches nothing, or longer than
/// <see cref="MaxInputCharsPerWord"/> code points, becomes the unknown token.
/// </summary>
public sealed class WordPieceModel : ITokenizerModel
{
    private readonly Dictionary<string, int> continuations;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> continuationLookup;
    private readonly int maxStartLength;
    private readonly int maxContinuationLength;
    private readonly int unkId;

    public WordPieceModel(Vocabulary vocab, string unkToken = "[UNK]", string continuingSubwordPrefix = "##",
        int maxInputCharsPerWord = 100)
    {
        Vocab = vocab;
        UnkToken = unkToken;
        ContinuingSubwordPrefix = continuingSubwordPrefix;
        MaxInputCharsPerWord = maxInputCharsPerWord;
        unkId = vocab.TryGetId(unkToken, out int id) ? id : -1;
        continuations = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (token, tokenId) in vocab.TokenToIdMap)
        {
            maxStartLength = Math.Max(maxStartLength, token.Length);
            if (token.StartsWith(continuingSubwordPrefix, StringComparison.Ordinal))
            {
                string rest = token[continuingSubwordPrefix.Length..];
                continuations[rest] = tokenId;
                maxContinuationLength = Math.Max(maxContinuationLength, rest.Length);
            }
        }
        continuationLookup = continuations.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public Vocabulary Vocab { get; }

    public string UnkToken { get; }

    public string ContinuingSubwordPrefix { get; }

    public int MaxInputCharsPerWord { get; }

    /// <summary>Words kept whole: their own vocabulary id, or the unknown token (Python BertTokenizer's <c>never_split</c>).</summary>
    public IReadOnlySet<string>? NeverSplit { get; init; }

    public int VocabSize => Vocab.Count;

    public int? TokenToId(string token) => Vocab.TokenToId(token);

    public string? IdToToken(int id) => Vocab.IdToToken(id);

    public IReadOnlyDictionary<string, int> GetVocab() => Vocab.TokenToIdMap;

    public void Tokenize(ReadOnlySpan<char> word, List<Token> output)
    {
        if (word.IsEmpty) return;
        if (NeverSplit is { Count: > 0 } && NeverSplit.Contains(new string(word)))
        {
            if (Vocab.TryGetId(word, out int whole)) output.Add(new Token(whole, Vocab.IdToToken(whole)!, 0, word.Length));
            else AddUnk(word.Length, output);
            return;
        }
        if (word.Length > MaxInputCharsPerWord && CharInfo.CodePointCount(word) > MaxInputCharsPerWord)
        {
            AddUnk(word.Length, output);
            return;
        }
        int firstToken = output.Count;
        int start = 0;
        while (start < word.Length)
        {
            int limit = start == 0 ? maxStartLength : maxContinuationLength;
            int end = Math.Min(word.Length, start + limit);
            if (end < word.Length && end > start && char.IsLowSurrogate(word[end]) && char.IsHighSurrogate(word[end - 1])) end--;
            int found = -1;
            while (end > start)
            {
                var piece = word[start..end];
                if (start == 0 ? Vocab.TryGetId(piece, out found) : continuationLookup.TryGetValue(piece, out found)) break;
                found = -1;
                end--;
                if (end > start && char.IsLowSurrogate(word[end]) && char.IsHighSurrogate(word[end - 1])) end--;
            }
            if (found < 0)
            {
                output.RemoveRange(firstToken, output.Count - firstToken);
                AddUnk(word.Length, output);
                return;
            }
            output.Add(new Token(found, Vocab.IdToToken(found)!, start, end));
            start = end;
        }
    }

    private void AddUnk(int length, List<Token> output)
    {
        if (unkId < 0)
        {
            throw new InvalidOperationException($"WordPiece: the unknown token '{UnkToken}' is not in the vocabulary");
        }
        output.Add(new Token(unkId, UnkToken, 0, length));
    }
}
