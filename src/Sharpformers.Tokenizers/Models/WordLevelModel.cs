using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.Models;

/// <summary>Whole words looked up in a vocabulary; anything else is the unknown token (Hugging Face's <c>WordLevel</c>).</summary>
public sealed class WordLevelModel(Vocabulary vocab, string unkToken = "<unk>") : ITokenizerModel
{
    public Vocabulary Vocab => vocab;

    public string UnkToken => unkToken;

    public int VocabSize => vocab.Count;

    public int? TokenToId(string token) => vocab.TokenToId(token);

    public string? IdToToken(int id) => vocab.IdToToken(id);

    public IReadOnlyDictionary<string, int> GetVocab() => vocab.TokenToIdMap;

    public void Tokenize(ReadOnlySpan<char> word, List<Token> output)
    {
        if (vocab.TryGetId(word, out int id))
        {
            output.Add(new Token(id, vocab.IdToToken(id)!, 0, word.Length));
        }
        else if (vocab.TryGetId(unkToken, out int unk))
        {
            output.Add(new Token(unk, unkToken, 0, word.Length));
        }
        else
        {
            throw new InvalidOperationException($"WordLevel: the unknown token '{unkToken}' is not in the vocabulary");
        }
    }
}
