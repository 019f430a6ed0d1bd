using System.Globalization;
using System.Text;

namespace Sharpformers.Tokenizers.SentencePiece;

/// <summary>One piece of a SentencePiece encoding: its text, its id, and the UTF-16 range of the input it covers.</summary>
public readonly record struct SentencePiecePiece(string Piece, int Id, int Start, int End);

/// <summary>
/// What the <c>sentencepiece</c> library's <c>SentencePieceProcessor</c> does for the Python tokenizers
/// (AlbertTokenizer, XLMRobertaTokenizer, DebertaV2Tokenizer): normalize with the model's precompiled
/// character map and whitespace rules, segment with Unigram (Viterbi) or BPE, merge runs of unknown pieces,
/// and decode pieces back to text. Reimplemented from the model file; no native library.
/// </summary>
public sealed class SentencePieceProcessor
{
    private const string SpaceSymbol = "\u2581";
    private readonly Dictionary<string, int> pieceToId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> pieceLookup;
    private readonly PrecompiledCharsMap? charsMap;
    private readonly SentencePieceSegmenter segmenter;

    public SentencePieceProcessor(SentencePieceModelProto proto, string source = "SentencePiece model")
    {
        Proto = proto;
        for (int i = 0; i < proto.Pieces.Count; i++) pieceToId[proto.Pieces[i].Piece] = i;
        pieceLookup = pieceToId.GetAlternateLookup<ReadOnlySpan<char>>();
        if (proto.PrecompiledCharsmap is { Length: > 0 } blob) charsMap = PrecompiledCharsMap.Parse(blob, source);
        segmenter = proto.ModelType switch
        {
            SentencePieceModelType.Unigram => new SentencePieceUnigram(proto),
            SentencePieceModelType.Bpe => new SentencePieceBpe(proto),
            _ => throw new NotSupportedException($"{source}: SentencePiece model_type {proto.ModelType} is not supported (only UNIGRAM and BPE)"),
        };
    }

    public SentencePieceModelProto Proto { get; }

    /// <summary>Number of pieces (GetPieceSize / len(sp_model)).</summary>
    public int PieceCount => Proto.Pieces.Count;

    public int UnkId => Proto.UnkId;

    /// <summary>The id of a piece, or the unknown id (PieceToId).</summary>
    public int PieceToId(string piece) => pieceToId.TryGetValue(piece, out int id) ? id : Proto.UnkId;

    /// <summary>The id of a piece given as a span, or -1 when it is not a piece.</summary>
    public int Lookup(ReadOnlySpan<char> piece) => pieceLookup.TryGetValue(piece, out int id) ? id : -1;

    /// <summary>The piece of an id (IdToPiece).</summary>
    public string IdToPiece(int id) => (uint)id < (uint)Proto.Pieces.Count
        ? Proto.Pieces[id].Piece
        : throw new ArgumentOutOfRangeException(nameof(id), id, $"piece id must be below {Proto.Pieces.Count}");

    public SentencePieceType TypeOf(int id) => Proto.Pieces[id].Type;

    /// <summary>Encodes text into pieces (<c>encode(text, out_type=str)</c> with offsets).</summary>
    public List<SentencePiecePiece> Encode(ReadOnlySpan<char> text)
    {
        var (normalized, starts, ends) = Normalize(text);
        var result = new List<SentencePiecePiece>();
        if (normalized.Length == 0) return result;
        var segments = segmenter.Segment(normalized, this);
        bool previousUnknown = false;
        foreach (var (segStart, segEnd, segId) in segments)
        {
            int id = segId;
            string piece = id >= 0 && Proto.Pieces[id].Piece.Length == segEnd - segStart
                ? Proto.Pieces[id].Piece
                : normalized[segStart..segEnd];
            bool unknown = id < 0 || Proto.Pieces[id].Type == SentencePieceType.Unknown;
            if (unknown) id = Proto.UnkId;
            int origStart = starts[segStart];
            int origEnd = ends[segEnd - 1];
            if (Proto.Pieces[id].Type == SentencePieceType.Control)
            {
                result.Add(new SentencePiecePiece(piece, id, origStart, origStart));
                previousUnknown = false;
                continue;
            }
            if (unknown && Proto.ByteFallback)
            {
                foreach (byte b in System.Text.Encoding.UTF8.GetBytes(piece))
                {
                    string bytePiece = "<0x" + b.ToString("X2", CultureInfo.InvariantCulture) + ">";
                    result.Add(new SentencePiecePiece(bytePiece, PieceToId(bytePiece), origStart, origEnd));
                }
                previousUnknown = true;
                continue;
            }
            if (unknown && previousUnknown)
            {
                var last = result[^1];
                result[^1] = last with { Piece = last.Piece + piece, End = origEnd };
            }
            else
            {
                result.Add(new SentencePiecePiece(piece, id, origStart, origEnd));
            }
            previousUnknown = unknown;
        }
        return result;
    }

    /// <summary>The pieces of <paramref name="text"/> as strings (EncodeAsPieces).</summary>
    public List<string> EncodeAsPieces(string text) => Encode(text).Select(p => p.Piece).ToList();

    /// <summary>
    /// SentencePiece's normalization: precompiled rules (longest match), extra whitespace removed, spaces
    /// escaped as '▁', a dummy '▁' prefix. Returns the normalized text and, per UTF-16 unit, the range of the
    /// input it came from.
    /// </summary>
    public (string Normalized, int[] Starts, int[] Ends) Normalize(ReadOnlySpan<char> input)
    {
        if (input.IsEmpty) return ("", [], []);
        var utf8 = new byte[System.Text.Encoding.UTF8.GetMaxByteCount(input.Length)];
        int byteCount = System.Text.Encoding.UTF8.GetBytes(input, utf8);
        // UTF-16 index of the character each byte belongs to, and the end of the input.
        var byteToChar = new int[byteCount + 1];
        for (int i = 0, b = 0; i < input.Length;)
        {
            int len = char.IsHighSurrogate(input[i]) && i + 1 < input.Length && char.IsLowSurrogate(input[i + 1]) ? 2 : 1;
            int n = System.Text.Encoding.UTF8.GetByteCount(input.Slice(i, len));
            for (int k = 0; k < n; k++) byteToChar[b + k] = i;
            b += n;
            i += len;
        }
        byteToChar[byteCount] = input.Length;
        var bytes = utf8.AsSpan(0, byteCount);

        var output = new List<byte>(byteCount + 8);
        var chunkStart = new List<int>(byteCount + 8);
        var chunkEnd = new List<int>(byteCount + 8);
        int position = 0;
        if (Proto.RemoveExtraWhitespaces)
        {
            while (position < byteCount)
            {
                var (piece, consumed) = NormalizePrefix(bytes[position..]);
                if (!(piece.Length == 1 && piece[0] == (byte)' ')) break;
                position += consumed;
            }
        }
        if (position >= byteCount) return ("", [], []);
        byte[] space = Proto.EscapeWhitespaces ? "\u2581"u8.ToArray() : " "u8.ToArray();
        int firstChunkEnd = position + NormalizePrefix(bytes[position..]).Consumed;
        void AddWhitespace(int s, int e)
        {
            foreach (byte b in space)
            {
                output.Add(b);
                chunkStart.Add(s);
                chunkEnd.Add(e);
            }
        }
        if (!Proto.TreatWhitespaceAsSuffix && Proto.AddDummyPrefix) AddWhitespace(position, firstChunkEnd);
        bool previousSpace = Proto.RemoveExtraWhitespaces;
        while (position < byteCount)
        {
            var (piece, consumed) = NormalizePrefix(bytes[position..]);
            int skip = 0;
            if (previousSpace)
            {
                while (skip < piece.Length && piece[skip] == (byte)' ') skip++;
            }
            if (skip < piece.Length)
            {
                for (int k = skip; k < piece.Length; k++)
                {
                    if (Proto.EscapeWhitespaces && piece[k] == (byte)' ')
                    {
                        AddWhitespace(position, position + consumed);
                    }
                    else
                    {
                        output.Add(piece[k]);
                        chunkStart.Add(position);
                        chunkEnd.Add(position + consumed);
                    }
                }
                previousSpace = piece[^1] == (byte)' ';
            }
            position += consumed;
            if (!Proto.RemoveExtraWhitespaces) previousSpace = false;
        }
        if (Proto.RemoveExtraWhitespaces)
        {
            while (EndsWith(output, space))
            {
                output.RemoveRange(output.Count - space.Length, space.Length);
                chunkStart.RemoveRange(chunkStart.Count - space.Length, space.Length);
                chunkEnd.RemoveRange(chunkEnd.Count - space.Length, space.Length);
            }
        }
        if (Proto.TreatWhitespaceAsSuffix && Proto.AddDummyPrefix && output.Count > 0)
        {
            AddWhitespace(chunkEnd[^1], chunkEnd[^1]);
        }
        // Decode the normalized bytes to UTF-16, each unit aligned with the input range of its first byte's chunk.
        var outBytes = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(output);
        string normalized = System.Text.Encoding.UTF8.GetString(outBytes);
        var starts = new int[normalized.Length];
        var ends = new int[normalized.Length];
        int byteAt = 0;
        for (int i = 0; i < normalized.Length;)
        {
            int len = char.IsHighSurrogate(normalized[i]) && i + 1 < normalized.Length ? 2 : 1;
            int n = System.Text.Encoding.UTF8.GetByteCount(normalized.AsSpan(i, len));
            int s = byteToChar[Math.Min(chunkStart[byteAt], byteCount)];
            int e = byteToChar[Math.Min(chunkEnd[byteAt + n - 1], byteCount)];
            for (int k = 0; k < len; k++)
            {
                starts[i + k] = s;
                ends[i + k] = Math.Max(e, s);
            }
            byteAt += n;
            i += len;
        }
        return (normalized, starts, ends);
    }

    /// <summary>SentencePiece's NormalizePrefix: the longest rule at the start, else one UTF-8 character (U+FFFD for a bad byte).</summary>
    private (byte[] Piece, int Consumed) NormalizePrefix(ReadOnlySpan<byte> input)
    {
        if (charsMap is not null && charsMap.TryLongestPrefix(input, out int matched, out var replacement))
        {
            return (replacement.ToArray(), matched);
        }
        int length = Utf8CharLength(input);
        if (length == 0) return ([0xEF, 0xBF, 0xBD], 1);
        return (input[..length].ToArray(), length);
    }

    /// <summary>Length of the valid UTF-8 character at the start, or 0 when it is malformed.</summary>
    private static int Utf8CharLength(ReadOnlySpan<byte> s)
    {
        var status = System.Text.Rune.DecodeFromUtf8(s, out _, out int consumed);
        return status == System.Buffers.OperationStatus.Done ? consumed : 0;
    }

    private static bool EndsWith(List<byte> list, byte[] suffix)
    {
        if (list.Count < suffix.Length) return false;
        for (int k = 0; k < suffix.Length; k++)
        {
            if (list[list.Count - suffix.Length + k] != suffix[k]) return false;
        }
        return true;
    }

    /// <summary>
    /// SentencePiece's DecodePieces: control pieces vanish, the unknown piece shows as " ⁇ ", byte pieces are
    /// reassembled into UTF-8, '▁' becomes a space, and leading '▁' is dropped until the text is non-empty.
    /// </summary>
    public string DecodePieces(IReadOnlyList<string> pieces)
    {
        var text = new StringBuilder();
        var pendingBytes = new List<byte>();
        bool isBosWs = true;
        bool bosWsSeen = false;
        void FlushBytes()
        {
            if (pendingBytes.Count == 0) return;
            text.Append(DecodeBytesLikeSentencePiece(pendingBytes));
            pendingBytes.Clear();
        }
        foreach (string piece in pieces)
        {
            int id = PieceToId(piece);
            var type = Proto.Pieces[id].Type;
            if (type == SentencePieceType.Byte && TryByte(piece, out byte b))
            {
                pendingBytes.Add(b);
                continue;
            }
            FlushBytes();
            if (bosWsSeen || text.Length > 0) isBosWs = false;
            bosWsSeen = false;
            if (type == SentencePieceType.Control) continue;
            if (type == SentencePieceType.Unknown)
            {
                text.Append(piece == Proto.Pieces[id].Piece ? Proto.UnkSurface : piece);
                continue;
            }
            string surface = piece;
            if (isBosWs && (Proto.AddDummyPrefix || Proto.RemoveExtraWhitespaces) && surface.StartsWith(SpaceSymbol, StringComparison.Ordinal))
            {
                surface = surface[1..];
                bosWsSeen = !Proto.RemoveExtraWhitespaces;
            }
            text.Append(surface.Replace(SpaceSymbol, " ", StringComparison.Ordinal));
        }
        FlushBytes();
        return text.ToString();
    }

    private static bool TryByte(string piece, out byte value)
    {
        value = 0;
        return piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>'
            && byte.TryParse(piece.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>Valid UTF-8 characters as themselves, each invalid byte as U+FFFD.</summary>
    private static string DecodeBytesLikeSentencePiece(List<byte> bytes)
    {
        var sb = new StringBuilder();
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes);
        while (!span.IsEmpty)
        {
            var status = System.Text.Rune.DecodeFromUtf8(span, out var rune, out int consumed);
            if (status == System.Buffers.OperationStatus.Done)
            {
                sb.Append(rune.ToString());
                span = span[consumed..];
            }
            else
            {
                sb.Append('\uFFFD');
                span = span[1..];
            }
        }
        return sb.ToString();
    }
}
