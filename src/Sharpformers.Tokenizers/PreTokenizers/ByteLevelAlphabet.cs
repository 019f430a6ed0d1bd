namespace Sharpformers.Tokenizers.PreTokenizers;

/// <summary>
/// GPT-2's reversible map from the 256 byte values to printable characters (<c>bytes_to_unicode</c>):
/// printable Latin-1 bytes map to themselves, the others to U+0100 onwards, so ' ' becomes 'Ġ' and '\n' 'Ċ'.
/// </summary>
public static class ByteLevelAlphabet
{
    private static readonly char[] ByteToCharTable = BuildByteToChar();
    private static readonly short[] CharToByteTable = BuildCharToByte();

    /// <summary>The character standing for byte <paramref name="b"/>.</summary>
    public static char ByteToChar(byte b) => ByteToCharTable[b];

    /// <summary>The byte a character stands for, or -1 if it is not in the alphabet.</summary>
    public static int CharToByte(char c) => c < CharToByteTable.Length ? CharToByteTable[c] : -1;

    /// <summary>All 256 characters, in byte order.</summary>
    public static ReadOnlySpan<char> Characters => ByteToCharTable;

    private static char[] BuildByteToChar()
    {
        var table = new char[256];
        var used = new bool[256];
        for (int b = '!'; b <= '~'; b++) used[b] = true;
        for (int b = 0xA1; b <= 0xAC; b++) used[b] = true;
        for (int b = 0xAE; b <= 0xFF; b++) used[b] = true;
        int n = 0;
        for (int b = 0; b < 256; b++) table[b] = used[b] ? (char)b : (char)(256 + n++);
        return table;
    }

    private static short[] BuildCharToByte()
    {
        var table = new short[512];
        Array.Fill(table, (short)-1);
        for (int b = 0; b < 256; b++) table[ByteToCharTable[b]] = (short)b;
        return table;
    }
}
