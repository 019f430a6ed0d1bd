using System.Buffers.Binary;

namespace Sharpformers.Tokenizers.SentencePiece;

/// <summary>
/// SentencePiece's precompiled normalization rules (<c>normalizer_spec.precompiled_charsmap</c>): a Darts-clone
/// double-array trie over UTF-8 byte sequences whose values point into a pool of NUL-terminated replacement
/// strings. Layout: a little-endian uint32 with the trie size in bytes, the trie units, then the pool.
/// </summary>
public sealed class PrecompiledCharsMap
{
    private readonly uint[] units;
    private readonly byte[] pool;

    private PrecompiledCharsMap(uint[] units, byte[] pool, byte[] blob)
    {
        this.units = units;
        this.pool = pool;
        Blob = blob;
    }

    /// <summary>The serialized form, as found in the model or tokenizer.json.</summary>
    public byte[] Blob { get; }

    /// <summary>Parses a charsmap blob; <paramref name="source"/> names where it came from in error messages.</summary>
    public static PrecompiledCharsMap Parse(byte[] blob, string source)
    {
        if (blob.Length < 4)
        {
            throw new InvalidDataException($"{source}: precompiled_charsmap is {blob.Length} bytes, too short to hold its trie size");
        }
        uint trieSize = BinaryPrimitives.ReadUInt32LittleEndian(blob);
        if (trieSize % 4 != 0 || trieSize > (uint)(blob.Length - 4) || trieSize == 0)
        {
            throw new InvalidDataException(
                $"{source}: precompiled_charsmap declares a trie of {trieSize} bytes but holds {blob.Length - 4} bytes after the size field");
        }
        var units = new uint[trieSize / 4];
        for (int i = 0; i < units.Length; i++) units[i] = BinaryPrimitives.ReadUInt32LittleEndian(blob.AsSpan(4 + 4 * i));
        var pool = blob.AsSpan(4 + (int)trieSize).ToArray();
        var map = new PrecompiledCharsMap(units, pool, blob);
        return map;
    }

    /// <summary>
    /// Walks the trie along <paramref name="key"/> and reports every prefix that has a replacement, shortest first
    /// (Darts' <c>commonPrefixSearch</c>). Returns how many were found (capped by the result span).
    /// </summary>
    public int CommonPrefixSearch(ReadOnlySpan<byte> key, Span<(int Value, int Length)> results)
    {
        int found = 0;
        uint nodePos = 0;
        uint unit = units[0];
        nodePos ^= Offset(unit);
        for (int i = 0; i < key.Length; i++)
        {
            nodePos ^= key[i];
            if (nodePos >= units.Length) return found;
            unit = units[nodePos];
            if (Label(unit) != key[i]) return found;
            nodePos ^= Offset(unit);
            if (nodePos >= units.Length) return found;
            if (HasLeaf(unit))
            {
                if (found < results.Length) results[found] = ((int)Value(units[nodePos]), i + 1);
                found++;
            }
        }
        return Math.Min(found, results.Length);
    }

    /// <summary>The replacement string (UTF-8, without the terminating NUL) that a trie value points to.</summary>
    public ReadOnlySpan<byte> Replacement(int value)
    {
        if ((uint)value >= (uint)pool.Length) return [];
        var rest = pool.AsSpan(value);
        int end = rest.IndexOf((byte)0);
        return end < 0 ? rest : rest[..end];
    }

    /// <summary>The shortest-prefix replacement of <paramref name="key"/>, as Hugging Face's <c>Precompiled::transform</c> takes it.</summary>
    public bool TryTransformFirst(ReadOnlySpan<byte> key, out ReadOnlySpan<byte> replacement)
    {
        Span<(int, int)> results = stackalloc (int, int)[1];
        if (CommonPrefixSearch(key, results) == 0)
        {
            replacement = default;
            return false;
        }
        replacement = Replacement(results[0].Item1);
        return true;
    }

    /// <summary>The longest-prefix rule at the start of <paramref name="key"/>: SentencePiece's <c>NormalizePrefix</c> lookup.</summary>
    public bool TryLongestPrefix(ReadOnlySpan<byte> key, out int matchedLength, out ReadOnlySpan<byte> replacement)
    {
        Span<(int Value, int Length)> results = stackalloc (int, int)[32];
        int n = CommonPrefixSearch(key, results);
        matchedLength = 0;
        int value = 0;
        for (int k = 0; k < n; k++)
        {
            if (matchedLength == 0 || results[k].Length > matchedLength)
            {
                matchedLength = results[k].Length;
                value = results[k].Value;
            }
        }
        replacement = matchedLength == 0 ? default : Replacement(value);
        return matchedLength > 0;
    }

    private static bool HasLeaf(uint unit) => ((unit >> 8) & 1) == 1;

    private static uint Value(uint unit) => unit & 0x7FFFFFFFu;

    private static uint Label(uint unit) => unit & (0x80000000u | 0xFFu);

    private static uint Offset(uint unit) => (unit >> 10) << (int)((unit & (1u << 9)) >> 6);
}
