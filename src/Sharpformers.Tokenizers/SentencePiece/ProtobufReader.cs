using System.Buffers.Binary;

namespace Sharpformers.Tokenizers.SentencePiece;

/// <summary>Protocol buffers wire types.</summary>
internal enum WireType
{
    Varint = 0,
    Fixed64 = 1,
    LengthDelimited = 2,
    StartGroup = 3,
    EndGroup = 4,
    Fixed32 = 5,
}

/// <summary>
/// A minimal reader of the protocol buffers wire format: enough for SentencePiece's ModelProto. Every read is
/// bounds-checked; a truncated or malformed message raises an error naming the file and the byte offset.
/// </summary>
internal ref struct ProtobufReader
{
    private readonly ReadOnlySpan<byte> data;
    private readonly string source;
    private readonly int baseOffset;
    private int position;

    public ProtobufReader(ReadOnlySpan<byte> data, string source, int baseOffset = 0)
    {
        this.data = data;
        this.source = source;
        this.baseOffset = baseOffset;
        position = 0;
    }

    public readonly bool AtEnd => position >= data.Length;

    /// <summary>Absolute offset (in the file) of the next byte.</summary>
    public readonly int Offset => baseOffset + position;

    /// <summary>Reads a field key; returns false at the end of the message.</summary>
    public bool TryReadKey(out int field, out WireType wireType)
    {
        if (AtEnd)
        {
            field = 0;
            wireType = 0;
            return false;
        }
        int at = Offset;
        ulong key = ReadVarint();
        field = (int)(key >> 3);
        wireType = (WireType)(key & 7);
        if (field <= 0) throw Error(at, $"invalid field number {field}");
        if (wireType is WireType.StartGroup or WireType.EndGroup or > WireType.Fixed32)
        {
            throw Error(at, $"unsupported wire type {(int)wireType} for field {field}");
        }
        return true;
    }

    public ulong ReadVarint()
    {
        int at = Offset;
        ulong result = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (position >= data.Length) throw Error(at, "the file ends inside a varint (truncated?)");
            byte b = data[position++];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return result;
        }
        throw Error(at, "a varint is longer than 10 bytes");
    }

    public float ReadFloat()
    {
        if (data.Length - position < 4) throw Error(Offset, "the file ends inside a 32-bit value (truncated?)");
        float value = BinaryPrimitives.ReadSingleLittleEndian(data[position..]);
        position += 4;
        return value;
    }

    /// <summary>A length-delimited payload; <paramref name="payloadOffset"/> is its absolute offset.</summary>
    public ReadOnlySpan<byte> ReadBytes(out int payloadOffset)
    {
        int at = Offset;
        ulong length = ReadVarint();
        if (length > (ulong)(data.Length - position))
        {
            throw Error(at, $"a field declares {length} bytes but only {data.Length - position} remain (truncated?)");
        }
        payloadOffset = Offset;
        var payload = data.Slice(position, (int)length);
        position += (int)length;
        return payload;
    }

    public string ReadString()
    {
        int at = Offset;
        var bytes = ReadBytes(out _);
        try
        {
            return new System.Text.UTF8Encoding(false, true).GetString(bytes);
        }
        catch (System.Text.DecoderFallbackException)
        {
            throw Error(at, "a string field is not valid UTF-8");
        }
    }

    public void Skip(WireType wireType)
    {
        switch (wireType)
        {
            case WireType.Varint:
                ReadVarint();
                break;
            case WireType.Fixed64:
                if (data.Length - position < 8) throw Error(Offset, "the file ends inside a 64-bit value (truncated?)");
                position += 8;
                break;
            case WireType.Fixed32:
                if (data.Length - position < 4) throw Error(Offset, "the file ends inside a 32-bit value (truncated?)");
                position += 4;
                break;
            case WireType.LengthDelimited:
                ReadBytes(out _);
                break;
            default:
                throw Error(Offset, $"cannot skip wire type {(int)wireType}");
        }
    }

    public readonly InvalidDataException Error(int offset, string message) =>
        new($"{source}: not a valid SentencePiece model: {message} at byte {offset}");
}
