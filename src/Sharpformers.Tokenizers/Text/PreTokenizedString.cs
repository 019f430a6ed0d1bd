namespace Sharpformers.Tokenizers.Text;

/// <summary>A token a model produced: its id, its string, and its [Start, End) range in the normalized split it came from.</summary>
public readonly record struct Token(int Id, string Value, int Start, int End);

/// <summary>One piece of a pre-tokenized string: its normalized text and, once known, its tokens.</summary>
public sealed class Split(NormalizedString normalized, List<Token>? tokens = null)
{
    public NormalizedString Normalized { get; set; } = normalized;

    /// <summary>Null until a model (or the added vocabulary) has tokenized this split.</summary>
    public List<Token>? Tokens { get; set; } = tokens;
}

/// <summary>Splits the given normalized string into pieces appended to the output list.</summary>
public delegate void SplitFunction(int index, NormalizedString normalized, List<NormalizedString> output);

/// <summary>
/// The input string cut into splits by the added vocabulary and the pre-tokenizer (Hugging Face's
/// <c>PreTokenizedString</c>). Each final split is one "word" of the encoding.
/// </summary>
public sealed class PreTokenizedString
{
    private List<Split> splits;

    public PreTokenizedString(string original)
    {
        Original = original;
        splits = [new Split(new NormalizedString(original))];
    }

    /// <summary>The complete input.</summary>
    public string Original { get; }

    public IReadOnlyList<Split> Splits => splits;

    /// <summary>
    /// Replaces each split that has no tokens yet with the pieces <paramref name="split"/> makes of it; empty
    /// pieces are dropped. Splits that already carry tokens (added tokens) are kept as they are.
    /// </summary>
    public void SplitEach(SplitFunction split)
    {
        var next = new List<Split>(splits.Count * 2);
        var pieces = new List<NormalizedString>();
        for (int i = 0; i < splits.Count; i++)
        {
            var current = splits[i];
            if (current.Tokens is not null)
            {
                next.Add(current);
                continue;
            }
            pieces.Clear();
            split(i, current.Normalized, pieces);
            foreach (var piece in pieces)
            {
                if (!piece.IsEmpty) next.Add(new Split(piece));
            }
        }
        splits = next;
    }

    /// <summary>Replaces the splits outright (used by the added vocabulary, which attaches tokens).</summary>
    internal void ReplaceSplits(List<Split> newSplits) => splits = newSplits;

    /// <summary>Runs <paramref name="normalize"/> on every split that has no tokens yet.</summary>
    public void NormalizeEach(Action<NormalizedString> normalize)
    {
        foreach (var split in splits)
        {
            if (split.Tokens is null) normalize(split.Normalized);
        }
    }
}
