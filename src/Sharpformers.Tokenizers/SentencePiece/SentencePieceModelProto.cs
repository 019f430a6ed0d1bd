namespace Sharpformers.Tokenizers.SentencePiece;

/// <summary>The type of a SentencePiece vocabulary entry.</summary>
public enum SentencePieceType
{
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
}

/// <summary>The segmentation algorithm of a SentencePiece model (trainer_spec.model_type).</summary>
public enum SentencePieceModelType
{
    Unigram = 1,
    Bpe = 2,
    Word = 3,
    Char = 4,
}

/// <summary>One vocabulary entry.</summary>
public readonly record struct SentencePieceEntry(string Piece, float Score, SentencePieceType Type);

/// <summary>
/// The parts of SentencePiece's <c>ModelProto</c> (sentencepiece_model.proto) that tokenization needs, read
/// with a small protocol buffers reader: the pieces with their scores and types, the trainer spec (model type,
/// byte fallback, special ids, unknown surface) and the normalizer spec (precompiled charsmap and the
/// whitespace options).
/// </summary>
public sealed class SentencePieceModelProto
{
    private SentencePieceModelProto(byte[] serialized)
    {
        Serialized = serialized;
    }

    /// <summary>The file as read (written back unchanged by SavePretrained).</summary>
    public byte[] Serialized { get; }

    public List<SentencePieceEntry> Pieces { get; } = [];

    public SentencePieceModelType ModelType { get; private set; } = SentencePieceModelType.Unigram;

    public bool ByteFallback { get; private set; }

    public bool TreatWhitespaceAsSuffix { get; private set; }

    public string UnkSurface { get; private set; } = " \u2047 ";

    public int UnkId { get; private set; }

    public int BosId { get; private set; } = 1;

    public int EosId { get; private set; } = 2;

    public int PadId { get; private set; } = -1;

    public string NormalizerName { get; private set; } = "nmt_nfkc";

    public byte[]? PrecompiledCharsmap { get; private set; }

    public bool AddDummyPrefix { get; private set; } = true;

    public bool RemoveExtraWhitespaces { get; private set; } = true;

    public bool EscapeWhitespaces { get; private set; } = true;

    /// <summary>Reads a model file; errors name the file.</summary>
    public static SentencePieceModelProto Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"SentencePiece model not found: {path}", path);
        return Parse(File.ReadAllBytes(path), Path.GetFileName(path));
    }

    /// <summary>Parses the serialized ModelProto; <paramref name="source"/> names it in errors.</summary>
    public static SentencePieceModelProto Parse(byte[] bytes, string source)
    {
        var proto = new SentencePieceModelProto(bytes);
        var reader = new ProtobufReader(bytes, source);
        while (reader.TryReadKey(out int field, out var wire))
        {
            switch (field)
            {
                case 1 when wire == WireType.LengthDelimited:
                    proto.Pieces.Add(ReadPiece(reader.ReadBytes(out int at), source, at, proto.Pieces.Count));
                    break;
                case 2 when wire == WireType.LengthDelimited:
                    proto.ReadTrainerSpec(reader.ReadBytes(out int trainerAt), source, trainerAt);
                    break;
                case 3 when wire == WireType.LengthDelimited:
                    proto.ReadNormalizerSpec(reader.ReadBytes(out int normalizerAt), source, normalizerAt);
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }
        if (proto.Pieces.Count == 0) throw new InvalidDataException($"{source}: not a valid SentencePiece model: it has no pieces");
        int unk = proto.Pieces.FindIndex(p => p.Type == SentencePieceType.Unknown);
        if (unk < 0) throw new InvalidDataException($"{source}: not a valid SentencePiece model: no piece has the UNKNOWN type");
        proto.UnkId = unk;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < proto.Pieces.Count; i++)
        {
            var p = proto.Pieces[i];
            if (p.Piece.Length == 0) throw new InvalidDataException($"{source}: not a valid SentencePiece model: piece {i} is empty");
            if (!seen.Add(p.Piece)) throw new InvalidDataException($"{source}: not a valid SentencePiece model: piece '{p.Piece}' is defined twice");
        }
        return proto;
    }

    private static SentencePieceEntry ReadPiece(ReadOnlySpan<byte> payload, string source, int offset, int index)
    {
        var reader = new ProtobufReader(payload, source, offset);
        string? piece = null;
        float score = 0;
        var type = SentencePieceType.Normal;
        while (reader.TryReadKey(out int field, out var wire))
        {
            switch (field)
            {
                case 1 when wire == WireType.LengthDelimited:
                    piece = reader.ReadString();
                    break;
                case 2 when wire == WireType.Fixed32:
                    score = reader.ReadFloat();
                    break;
                case 3 when wire == WireType.Varint:
                    ulong t = reader.ReadVarint();
                    if (t is < 1 or > 6) throw reader.Error(reader.Offset, $"piece {index} has unknown type {t}");
                    type = (SentencePieceType)t;
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }
        return new SentencePieceEntry(piece ?? throw reader.Error(offset, $"piece {index} has no text"), score, type);
    }

    private void ReadTrainerSpec(ReadOnlySpan<byte> payload, string source, int offset)
    {
        var reader = new ProtobufReader(payload, source, offset);
        while (reader.TryReadKey(out int field, out var wire))
        {
            switch (field)
            {
                case 3 when wire == WireType.Varint:
                    ulong type = reader.ReadVarint();
                    if (type is < 1 or > 4) throw reader.Error(reader.Offset, $"unknown model_type {type}");
                    ModelType = (SentencePieceModelType)type;
                    break;
                case 24 when wire == WireType.Varint:
                    TreatWhitespaceAsSuffix = reader.ReadVarint() != 0;
                    break;
                case 35 when wire == WireType.Varint:
                    ByteFallback = reader.ReadVarint() != 0;
                    break;
                case 40 when wire == WireType.Varint:
                    UnkId = (int)(long)reader.ReadVarint();
                    break;
                case 41 when wire == WireType.Varint:
                    BosId = (int)(long)reader.ReadVarint();
                    break;
                case 42 when wire == WireType.Varint:
                    EosId = (int)(long)reader.ReadVarint();
                    break;
                case 43 when wire == WireType.Varint:
                    PadId = (int)(long)reader.ReadVarint();
                    break;
                case 44 when wire == WireType.LengthDelimited:
                    UnkSurface = reader.ReadString();
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }
    }

    private void ReadNormalizerSpec(ReadOnlySpan<byte> payload, string source, int offset)
    {
        var reader = new ProtobufReader(payload, source, offset);
        while (reader.TryReadKey(out int field, out var wire))
        {
            switch (field)
            {
                case 1 when wire == WireType.LengthDelimited:
                    NormalizerName = reader.ReadString();
                    break;
                case 2 when wire == WireType.LengthDelimited:
                    PrecompiledCharsmap = reader.ReadBytes(out _).ToArray();
                    break;
                case 3 when wire == WireType.Varint:
                    AddDummyPrefix = reader.ReadVarint() != 0;
                    break;
                case 4 when wire == WireType.Varint:
                    RemoveExtraWhitespaces = reader.ReadVarint() != 0;
                    break;
                case 5 when wire == WireType.Varint:
                    EscapeWhitespaces = reader.ReadVarint() != 0;
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }
    }
}
