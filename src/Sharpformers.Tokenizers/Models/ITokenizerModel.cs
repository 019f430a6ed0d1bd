using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.Models;

/// <summary>
/// The third stage: turns one word into tokens from a vocabulary (WordPiece, BPE, Unigram, WordLevel).
/// Token offsets are relative to the word given.
/// </summary>
public interface ITokenizerModel
{
    /// <summary>Appends the tokens of <paramref name="word"/> to <paramref name="output"/>.</summary>
    void Tokenize(ReadOnlySpan<char> word, List<Token> output);

    /// <summary>The id of a vocabulary entry, or null.</summary>
    int? TokenToId(string token);

    /// <summary>The vocabulary entry of an id, or null.</summary>
    string? IdToToken(int id);

    /// <summary>Number of entries in the model's own vocabulary (added tokens excluded).</summary>
    int VocabSize { get; }

    /// <summary>The model's vocabulary, token to id.</summary>
    IReadOnlyDictionary<string, int> GetVocab();
}
