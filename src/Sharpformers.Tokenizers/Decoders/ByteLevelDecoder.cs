using Sharpformers.Tokenizers.PreTokenizers;

namespace Sharpformers.Tokenizers.Decoders;

/// <summary>
/// Turns byte-level characters back into bytes and decodes them as UTF-8, invalid sequences becoming U+FFFD;
/// a token with a character outside the alphabet contributes its own UTF-8 bytes (Hugging Face's <c>ByteLevel</c> decoder).
/// </summary>
public sealed class ByteLevelDecoder : IDecoder
{
    public List<string> DecodeChain(List<string> tokens) => [Decode(tokens)];

    internal static string Decode(IEnumerable<string> tokens)
    {
        var bytes = new List<byte>();
        foreach (string token in tokens) AppendBytes(token, bytes);
        return System.Text.Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes));
    }

    internal static void AppendBytes(string token, List<byte> bytes)
    {
        int mark = bytes.Count;
        foreach (char c in token)
        {
            int b = ByteLevelAlphabet.CharToByte(c);
            if (b < 0)
            {
                bytes.RemoveRange(mark, bytes.Count - mark);
                bytes.AddRange(System.Text.Encoding.UTF8.GetBytes(token));
                return;
            }
            bytes.Add((byte)b);
        }
    }
}
