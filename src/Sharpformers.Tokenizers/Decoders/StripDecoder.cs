namespace Sharpformers.Tokenizers.Decoders;

/// <summary>Removes up to <see cref="Start"/> leading and <see cref="Stop"/> trailing <see cref="Content"/> characters from each token (Hugging Face's <c>Strip</c>).</summary>
public sealed class StripDecoder(char content, int start, int stop) : IDecoder
{
    public char Content => content;

    public int Start => start;

    public int Stop => stop;

    public List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        foreach (string token in tokens)
        {
            var runes = token.EnumerateRunes().ToArray();
            int from = 0;
            for (int i = 0; i < Math.Min(start, runes.Length) && runes[i].Value == content; i++) from = i + 1;
            int to = runes.Length;
            for (int i = 0; i < stop; i++)
            {
                int index = runes.Length - i - 1;
                if (index < 0 || runes[index].Value != content) break;
                to = index;
            }
            var sb = new System.Text.StringBuilder();
            for (int i = from; i < Math.Max(from, to); i++) sb.Append(runes[i].ToString());
            result.Add(sb.ToString());
        }
        return result;
    }
}
