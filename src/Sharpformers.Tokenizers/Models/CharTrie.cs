namespace Sharpformers.Tokenizers.Models;

/// <summary>A trie over UTF-16 units for common-prefix searches (the Unigram lattice).</summary>
internal sealed class CharTrie
{
    private readonly Dictionary<long, int> children = new();
    private readonly List<int> values = [-1];

    /// <summary>Inserts <paramref name="key"/> with <paramref name="value"/> (a non-negative id).</summary>
    public void Add(ReadOnlySpan<char> key, int value)
    {
        int node = 0;
        foreach (char c in key)
        {
            long edge = ((long)node << 16) | c;
            if (!children.TryGetValue(edge, out int child))
            {
                child = values.Count;
                values.Add(-1);
                children[edge] = child;
            }
            node = child;
        }
        values[node] = value;
    }

    /// <summary>Reports (value, length) for every key that is a prefix of <paramref name="text"/>, shortest first.</summary>
    public void CommonPrefixSearch(ReadOnlySpan<char> text, List<(int Value, int Length)> output)
    {
        int node = 0;
        for (int i = 0; i < text.Length; i++)
        {
            if (!children.TryGetValue(((long)node << 16) | text[i], out node)) return;
            if (values[node] >= 0) output.Add((values[node], i + 1));
        }
    }
}
