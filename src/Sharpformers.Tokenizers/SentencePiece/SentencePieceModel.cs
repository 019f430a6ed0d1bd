using System.Globalization;
using Sharpformers.Tokenizers.Models;
using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.SentencePiece;

/// <summary>
/// A SentencePiece model as the Python tokenizers use it: each word (the text between added tokens) is
/// normalized and segmented by <see cref="SentencePieceProcessor"/>; pieces keep their text even when unknown
/// (their id is then the unknown token's). Ids may be shifted for fairseq vocabularies (XLM-R: &lt;s&gt;=0,
/// &lt;pad&gt;=1, &lt;/s&gt;=2, &lt;unk&gt;=3, SentencePiece ids + 1).
/// </summary>
public sealed class SentencePieceModel : ITokenizerModel
{
    private readonly Dictionary<string, int> fairseqTokens;
    private readonly Dictionary<int, string> fairseqIds;
    private Dictionary<string, int>? vocabCache;

    /// <param name="processor">The SentencePiece processor.</param>
    /// <param name="idOffset">Added to SentencePiece ids (1 for XLM-R).</param>
    /// <param name="reservedTokens">Tokens with fixed ids that take precedence (XLM-R's fairseq specials).</param>
    /// <param name="extraVocabSize">Ids past the pieces the vocabulary reserves (XLM-R's &lt;mask&gt;).</param>
    public SentencePieceModel(SentencePieceProcessor processor, int idOffset = 0,
        IReadOnlyDictionary<string, int>? reservedTokens = null, int extraVocabSize = 0)
    {
        Processor = processor;
        IdOffset = idOffset;
        fairseqTokens = reservedTokens is null ? [] : new Dictionary<string, int>(reservedTokens, StringComparer.Ordinal);
        fairseqIds = fairseqTokens.ToDictionary(kv => kv.Value, kv => kv.Key);
        ExtraVocabSize = extraVocabSize;
    }

    public SentencePieceProcessor Processor { get; }

    public int IdOffset { get; }

    public int ExtraVocabSize { get; }

    public IReadOnlyDictionary<string, int> ReservedTokens => fairseqTokens;

    /// <summary>
    /// AlbertTokenizer's fix for numbers with a trailing comma: a piece such as "▁9," is re-encoded as "▁9" + ",".
    /// </summary>
    public bool SplitDigitComma { get; init; }

    /// <summary>Python's vocab_size: pieces + offset + reserved extras.</summary>
    public int VocabSize => Processor.PieceCount + IdOffset + ExtraVocabSize;

    /// <summary>The tokenizer id of a piece (with the fairseq mapping: an unknown piece gives the unknown token).</summary>
    public int? TokenToId(string token)
    {
        if (fairseqTokens.TryGetValue(token, out int reserved)) return reserved;
        int id = Processor.Lookup(token);
        if (id < 0) return null;
        if (IdOffset > 0 && id == 0) return null;
        return id + IdOffset;
    }

    /// <summary>The piece of a tokenizer id.</summary>
    public string? IdToToken(int id)
    {
        if (fairseqIds.TryGetValue(id, out string? reserved)) return reserved;
        int pieceId = id - IdOffset;
        return (uint)pieceId < (uint)Processor.PieceCount ? Processor.IdToPiece(pieceId) : null;
    }

    public IReadOnlyDictionary<string, int> GetVocab()
    {
        if (vocabCache is not null) return vocabCache;
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int id = 0; id < Processor.PieceCount + IdOffset; id++)
        {
            if (IdToToken(id) is { } token) vocab[token] = id;
        }
        return vocabCache = vocab;
    }

    public void Tokenize(ReadOnlySpan<char> word, List<Token> output)
    {
        foreach (var piece in Processor.Encode(word))
        {
            if (SplitDigitComma && IsDigitComma(piece.Piece))
            {
                AddDigitCommaPieces(piece, output);
                continue;
            }
            output.Add(new Token(MapId(piece.Id), piece.Piece, piece.Start, piece.End));
        }
    }

    /// <summary>SentencePiece id to tokenizer id: unknown goes to the unknown token, others are shifted.</summary>
    private int MapId(int pieceId)
    {
        if (IdOffset == 0) return pieceId;
        if (pieceId == Processor.UnkId) return fairseqTokens.TryGetValue(Processor.IdToPiece(pieceId), out int u) ? u : pieceId + IdOffset;
        string piece = Processor.IdToPiece(pieceId);
        return fairseqTokens.TryGetValue(piece, out int reserved) ? reserved : pieceId + IdOffset;
    }

    private static bool IsDigitComma(string piece) =>
        piece.Length > 1 && piece[^1] == ',' && IsPythonDigit(piece[^2]);

    /// <summary>Python's <c>str.isdigit</c>: decimal digits and other digits (superscripts...).</summary>
    private static bool IsPythonDigit(char c) =>
        CharUnicodeInfo.GetDecimalDigitValue(c) >= 0 || CharUnicodeInfo.GetDigitValue(c) >= 0;

    private void AddDigitCommaPieces(SentencePiecePiece piece, List<Token> output)
    {
        string body = piece.Piece[..^1].Replace("\u2581", "", StringComparison.Ordinal);
        var parts = Processor.Encode(body);
        var pieces = parts.Select(p => (p.Piece, p.Id)).ToList();
        if (piece.Piece[0] != '\u2581' && pieces.Count > 0 && pieces[0].Piece.StartsWith('\u2581'))
        {
            if (pieces[0].Piece.Length == 1)
            {
                pieces.RemoveAt(0);
            }
            else
            {
                string trimmed = pieces[0].Piece[1..];
                pieces[0] = (trimmed, Processor.PieceToId(trimmed));
            }
        }
        // Offsets: the digits share the piece's range but the comma, which is its last character.
        int commaStart = Math.Max(piece.Start, piece.End - 1);
        foreach (var (text, id) in pieces) output.Add(new Token(MapId(id), text, piece.Start, commaStart));
        output.Add(new Token(MapId(Processor.PieceToId(",")), ",", commaStart, piece.End));
    }
}
