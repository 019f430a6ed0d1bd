using System.Buffers.Binary;
using System.Text;
using Sharpformers.Tensors.Formats;
using Sharpformers.TestSupport;

namespace Sharpformers.Tensors.Tests;

public sealed class SafetensorsTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("sf-tests-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private string WriteRaw(string header, int dataBytes, string name = "bad.safetensors", long? declaredLength = null)
    {
        var headerBytes = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + headerBytes.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)(declaredLength ?? headerBytes.Length));
        headerBytes.CopyTo(bytes, 8);
        string path = Path.Combine(dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static string Message(string path) => Assert.Throws<InvalidDataException>(() => SafetensorsReader.Open(path)).Message;

    [Fact]
    public void ReadsTheTinyBertCheckpointWithoutCopying()
    {
        using var reader = SafetensorsReader.Open(Path.Combine(Fixtures.Model("tiny-bert"), "model.safetensors"));
        Assert.Equal("pt", reader.Metadata["format"]);
        Assert.Equal(41, reader.Tensors.Count);
        var info = reader.GetInfo("bert.embeddings.word_embeddings.weight");
        Assert.Equal(DType.F32, info.DType);
        Assert.Equal([1028L, 32L], info.Shape);
        Assert.True(reader.TryGetFloat32Memory("classifier.weight", out var memory));
        Assert.Equal(96, memory.Length);
        var copy = new float[96];
        reader.ReadAsFloat32("classifier.weight", copy);
        Assert.Equal(copy, memory.ToArray());
        var tensor = reader.ReadTensor("classifier.weight");
        Assert.Equal([3, 32], tensor.Shape);
    }

    [Fact]
    public void RoundTripsWithHuggingFaceLayout()
    {
        var a = Tensor.FromArray([1f, -2f, 3.5f], 3);
        var b = Tensor.FromArray([0.25f, 0.5f, 0.75f, 1f, 1.25f, 1.5f], 2, 3);
        var ids = IntTensor.FromArray([7, 8, 9]);
        string path = Path.Combine(dir, "model.safetensors");
        SafetensorsWriter.Write(path, new Dictionary<string, ITensor> { ["b.weight"] = b, ["a.bias"] = a, ["ids"] = ids });
        var bytes = File.ReadAllBytes(path);
        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, headerLength % 8);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
        Assert.StartsWith("{\"__metadata__\":{\"format\":\"pt\"},\"a.bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}", header);
        Assert.Equal(8 + headerLength + 12 + 24 + 12, bytes.Length);
        using var reader = SafetensorsReader.Open(path);
        Assert.Equal(a.ToArray(), reader.ReadTensor("a.bias").ToArray());
        Assert.Equal(b.ToArray(), reader.ReadTensor("b.weight").ToArray());
        Assert.Equal([7f, 8f, 9f], reader.ReadTensor("ids").ToArray());
        Assert.Equal(DType.I32, reader.GetInfo("ids").DType);
        Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
    }

    [Fact]
    public void UpcastsHalfPrecisionAtLoad()
    {
        // 1.5 as F16 is 0x3E00; as BF16 it is 0x3FC0; -2 as F16 is 0xC000, as BF16 0xC000.
        string header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[4,8]}}";
        string path = WriteRaw(header, 8);
        var bytes = File.ReadAllBytes(path);
        int data = bytes.Length - 8;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(data), 0x3E00);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(data + 2), 0xC000);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(data + 4), 0x3FC0);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(data + 6), 0xC000);
        File.WriteAllBytes(path, bytes);
        using var reader = SafetensorsReader.Open(path);
        Assert.False(reader.TryGetFloat32Memory("h", out _));
        Assert.Equal([1.5f, -2f], reader.ReadTensor("h").ToArray());
        Assert.Equal([1.5f, -2f], reader.ReadTensor("b").ToArray());
        Assert.Empty(reader.Metadata);
    }

    [Fact]
    public void TruncatedFile()
    {
        string path = Path.Combine(dir, "short.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Contains("truncated: it has 3 bytes, but a safetensors file starts with an 8-byte header length", Message(path));
        Assert.Contains(path, Message(path));
    }

    [Fact]
    public void TruncatedData()
    {
        string path = WriteRaw("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8);
        Assert.Contains("tensor 'w' has data_offsets [0, 16] beyond the end of the data (8 bytes after the header)", Message(path));
    }

    [Fact]
    public void HeaderLengthBeyondTheFile()
    {
        string path = WriteRaw("{}", 0, declaredLength: 1_000_000);
        Assert.Contains("the header length field says 1000000 bytes, but the file has only 2 bytes after it", Message(path));
    }

    [Fact]
    public void HeaderIsNotJson()
    {
        Assert.Contains("the header is not valid JSON", Message(WriteRaw("this is not json", 0)));
        Assert.Contains("the header must be a JSON object, not Array", Message(WriteRaw("[1, 2]", 0)));
        Assert.Contains("bytes after its JSON object", Message(WriteRaw("{} {}", 0)));
    }

    [Fact]
    public void OverlappingOffsets()
    {
        string path = WriteRaw("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", 24);
        Assert.Contains("tensors 'a' [0, 16] and 'b' [8, 24] overlap", Message(path));
    }

    [Fact]
    public void OutOfRangeAndMisorderedOffsets()
    {
        Assert.Contains("beyond the end of the data",
            Message(WriteRaw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 12)));
        Assert.Contains("tensor 'a' has data_offsets [8, 0]: the end comes before the begin",
            Message(WriteRaw("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8)));
        Assert.Contains("needs 'data_offsets' as [begin, end] with non-negative integers",
            Message(WriteRaw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 8)));
        Assert.Contains("bytes [0, 4) of the data belong to no tensor (before 'a')",
            Message(WriteRaw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8)));
    }

    [Fact]
    public void UnknownDtype()
    {
        string path = WriteRaw("{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4);
        Assert.Contains("tensor 'a' has unknown dtype 'F8_E4M3' (supported: F32, F16, BF16", Message(path));
    }

    [Fact]
    public void ShapeAndByteCountMismatch()
    {
        string path = WriteRaw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", 20);
        Assert.Contains("tensor 'a' has shape [2, 3] and dtype F32, which is 24 bytes, but its data_offsets [0, 20] span 20 bytes", Message(path));
        Assert.Contains("dimensions must be non-negative integers",
            Message(WriteRaw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,4]}}", 4)));
    }

    [Fact]
    public void BadMetadataAndDuplicates()
    {
        Assert.Contains("'__metadata__' entry 'format' must be a string",
            Message(WriteRaw("{\"__metadata__\":{\"format\":1}}", 0)));
        Assert.Contains("the header lists 'a' twice",
            Message(WriteRaw("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}", 0)));
    }

    [Fact]
    public void MissingFileAndFolderWithoutWeights()
    {
        Assert.Throws<FileNotFoundException>(() => SafetensorsReader.Open(Path.Combine(dir, "nope.safetensors")));
        var ex = Assert.Throws<FileNotFoundException>(() => CheckpointFiles.Open(dir));
        Assert.Contains("expected one of model.safetensors", ex.Message);
    }

    [Fact]
    public void UnknownTensorNameIsKeyNotFound()
    {
        using var reader = SafetensorsReader.Open(Path.Combine(Fixtures.Model("tiny-distilbert"), "model.safetensors"));
        var ex = Assert.Throws<KeyNotFoundException>(() => reader.ReadAsFloat32("nope", new float[1]));
        Assert.Contains("has no tensor named 'nope'", ex.Message);
        Assert.Throws<ArgumentException>(() => reader.ReadAsFloat32("classifier.bias", new float[3]));
    }

    [Fact]
    public void MappedWeightsAreCopyOnWriteAndRefuseAccessAfterDispose()
    {
        string source = Path.Combine(Fixtures.Model("tiny-distilbert"), "model.safetensors");
        string path = Path.Combine(dir, "copy.safetensors");
        File.Copy(source, path);
        var before = File.ReadAllBytes(path);
        var reader = SafetensorsReader.Open(path);
        var tensor = reader.ReadTensor("classifier.bias");
        tensor.Span[0] = 123f;
        Assert.Equal(123f, reader.ReadTensor("classifier.bias").Span[0]); // same mapping
        reader.Dispose();
        Assert.Equal(before, File.ReadAllBytes(path)); // the file itself is untouched
        Assert.Throws<ObjectDisposedException>(() => tensor.Span.Length);
    }
}
