using System.Text;
using Sharpformers.Tensors.Formats.PyTorch;
using static Sharpformers.Tensors.Tests.PyTorchPaths;

namespace Sharpformers.Tensors.Tests;

/// <summary>Every broken input gets a message that names the file and what is wrong with it.</summary>
public sealed class PyTorchMalformedTests
{
    private const string Redownload = "The file is incomplete or corrupted; download it again.";
    private readonly string dir = NewTempDir();

    private string File(string name, byte[] bytes)
    {
        string path = Path.Combine(dir, name);
        System.IO.File.WriteAllBytes(path, bytes);
        return path;
    }

    private static string Message(string path) => Assert.ThrowsAny<Exception>(() => PyTorchCheckpointReader.Open(path).Dispose()).Message;

    [Fact]
    public void MissingFile()
    {
        string path = Path.Combine(dir, "absent.bin");

        var e = Assert.Throws<FileNotFoundException>(() => PyTorchCheckpointReader.Open(path));

        Assert.Equal($"The checkpoint '{path}' does not exist.", e.Message);
    }

    [Fact]
    public void EmptyFile()
    {
        string path = File("empty.bin", []);

        Assert.Equal($"'{path}' is not a PyTorch checkpoint: the file is empty.", Message(path));
    }

    [Fact]
    public void NotAZipAtAll()
    {
        string path = File("config.bin", "{\"model_type\": \"bert\"}"u8.ToArray());

        Assert.Equal(
            $"'{path}' is not a PyTorch checkpoint: expected a zip archive (torch>=1.6 format, starting with 504B0304) but it starts with 7B226D6F.",
            Message(path));
    }

    [Fact]
    public void BadZip_CutShort()
    {
        byte[] whole = System.IO.File.ReadAllBytes(TinyBertBin);
        string path = File("cut.bin", whole[..(whole.Length / 2)]);

        Assert.Equal(
            $"'{path}' is a damaged zip archive: its end-of-central-directory record is missing (the file is cut short or is not a zip). {Redownload}",
            Message(path));
    }

    [Fact]
    public void BadZip_CentralDirectoryPointsOutsideTheFile()
    {
        byte[] bytes = System.IO.File.ReadAllBytes(TinyBertBin);
        int eocd = bytes.Length - 22;
        Assert.Equal(0x06054b50, BitConverter.ToInt32(bytes, eocd));
        BitConverter.GetBytes(int.MaxValue).CopyTo(bytes, eocd + 16);
        string path = File("moved.bin", bytes);

        Assert.StartsWith($"'{path}' is a damaged zip archive: its central directory (", Message(path));
        Assert.EndsWith($"at offset 2147483647) lies outside the {bytes.Length}-byte file. {Redownload}", Message(path));
    }

    [Fact]
    public void ZipWithoutDataPkl()
    {
        string path = Path.Combine(dir, "other.zip");
        TorchZipWriter.Write(path, [("readme.txt", "hello"u8.ToArray())]);

        Assert.Equal($"'{path}' is a zip archive but not a PyTorch checkpoint: it has no '<archive>/data.pkl' member.", Message(path));
    }

    [Fact]
    public void LegacyTorchFormat()
    {
        string path = Fixture("legacy.bin");

        Assert.Equal(
            $"'{path}' uses PyTorch's legacy serialization format (torch < 1.6, not a zip archive), which Sharpformers does not read. " +
            "Re-save it with torch>=1.6 (torch.save(torch.load(path), path)), or convert it to safetensors.",
            Message(path));
    }

    [Fact]
    public void LfsPointerInsteadOfTheCheckpoint()
    {
        string path = File("pytorch_model.bin", Encoding.ASCII.GetBytes(
            "version https://git-lfs.github.com/spec/v1\noid sha256:1f1ab2c8d4f8e11e9c2b1a52f4f4b2b0e3e3b6c4c0a1f1d2e3f4a5b6c7d8e9f0\nsize 212076\n"));

        Assert.Equal(
            $"'{path}' is a Git LFS pointer file, not the file's content (the real file is 212076 bytes, " +
            "sha256:1f1ab2c8d4f8e11e9c2b1a52f4f4b2b0e3e3b6c4c0a1f1d2e3f4a5b6c7d8e9f0): the repository was cloned without Git LFS. " +
            "Run `git lfs install && git lfs pull` inside the clone, or download the model with `sharpformers download REPO_ID` instead of git.",
            Message(path));
    }

    [Fact]
    public void TruncatedPickle_InsideAnOpcode()
    {
        byte[] pickle = TorchZipWriter.StateDictPickle([new CraftedTensor("w", "FloatStorage", "0", 1, 0, [1], [1])]);
        // Cut inside the BINUNICODE of the first name ("w" is at byte 5: X + 4-byte length + 1 byte).
        string path = Path.Combine(dir, "trunc.bin");
        TorchZipWriter.WriteCheckpoint(path, pickle[..7], new Dictionary<string, byte[]> { ["0"] = new byte[4] });

        Assert.Equal(
            $"'{path}' (archive/data.pkl): the pickle is truncated (it ends inside BINUNICODE at byte 4, before its STOP opcode). {Redownload}",
            Message(path));
    }

    [Fact]
    public void TruncatedPickle_BeforeStop()
    {
        byte[] pickle = TorchZipWriter.StateDictPickle([new CraftedTensor("w", "FloatStorage", "0", 1, 0, [1], [1])]);
        string path = Path.Combine(dir, "nostop.bin");
        TorchZipWriter.WriteCheckpoint(path, pickle[..^1], new Dictionary<string, byte[]> { ["0"] = new byte[4] });

        Assert.Equal(
            $"'{path}' (archive/data.pkl): the pickle is truncated (it ends at byte {pickle.Length - 1} without its STOP opcode). {Redownload}",
            Message(path));
    }

    [Fact]
    public void UnknownOpcode()
    {
        string path = Path.Combine(dir, "unknown.bin");
        TorchZipWriter.WriteCheckpoint(path, new PickleBuilder().Proto().Op((byte)'}', 0xFF).Stop().ToArray(), new Dictionary<string, byte[]>());

        Assert.Equal(
            $"'{path}' (archive/data.pkl): unknown pickle opcode 0xFF at byte 3. This is not a pickle torch writes; " +
            "the file is corrupted or not a PyTorch checkpoint.",
            Message(path));
    }

    [Fact]
    public void StorageMissingFromTheZip()
    {
        string path = Path.Combine(dir, "nostorage.bin");
        TorchZipWriter.WriteCheckpoint(path, TorchZipWriter.StateDictPickle(
            [new CraftedTensor("bert.pooler.dense.bias", "FloatStorage", "7", 32, 0, [32], [1])]), new Dictionary<string, byte[]>());

        Assert.Equal(
            $"'{path}': tensor 'bert.pooler.dense.bias' is stored in storage '7', but the archive has no member 'archive/data/7'. {Redownload}",
            Message(path));
    }

    [Fact]
    public void StorageShorterThanItsElementCount()
    {
        string path = Path.Combine(dir, "short.bin");
        TorchZipWriter.WriteCheckpoint(path, TorchZipWriter.StateDictPickle([new CraftedTensor("w", "FloatStorage", "0", 8, 0, [8], [1])]),
            new Dictionary<string, byte[]> { ["0"] = new byte[20] });

        Assert.Equal(
            $"'{path}': storage 'archive/data/0' has 20 bytes but holds 8 torch.FloatStorage elements (32 bytes). {Redownload}",
            Message(path));
    }

    [Fact]
    public void ViewReachingPastItsStorage()
    {
        string path = Path.Combine(dir, "oob.bin");
        TorchZipWriter.WriteCheckpoint(path, TorchZipWriter.StateDictPickle([new CraftedTensor("w", "FloatStorage", "0", 6, 2, [2, 3], [3, 1])]),
            new Dictionary<string, byte[]> { ["0"] = new byte[24] });

        Assert.Equal(
            $"'{path}' (archive/data.pkl): tensor 'w' (offset 2, size [2, 3], stride [3, 1]) reaches element 7 of storage '0', which has 6.",
            Message(path));
    }

    [Fact]
    public void ValueThatIsNotATensor()
    {
        string path = Path.Combine(dir, "notensor.bin");
        TorchZipWriter.WriteCheckpoint(path, new PickleBuilder().Proto().Op((byte)'}').Str("epoch").Int(3).Op((byte)'s').Stop().ToArray(),
            new Dictionary<string, byte[]>());

        Assert.Equal(
            $"'{path}' (archive/data.pkl): 'epoch' holds an int, not a tensor. Expected a flat state dict (name → tensor) as save_pretrained writes.",
            Message(path));
    }

    [Fact]
    public void RootThatIsNotADict()
    {
        string path = Path.Combine(dir, "list.bin");
        TorchZipWriter.WriteCheckpoint(path, new PickleBuilder().Proto().Op((byte)']').Stop().ToArray(), new Dictionary<string, byte[]>());

        Assert.Equal($"'{path}' (archive/data.pkl) holds a list, not a state dict (a dict of name → tensor).", Message(path));
    }

    [Fact]
    public void MalformedPersistentId()
    {
        string path = Path.Combine(dir, "pid.bin");
        TorchZipWriter.WriteCheckpoint(path, new PickleBuilder().Proto().Mark().Str("storage").Tuple().Op((byte)'Q').Stop().ToArray(),
            new Dictionary<string, byte[]>());

        Assert.Equal(
            $"'{path}' (archive/data.pkl): a persistent id is not ('storage', storage_type, key, location, numel) (got a 1-tuple).",
            Message(path));
    }

    [Fact]
    public void StackUnderflow()
    {
        string path = Path.Combine(dir, "underflow.bin");
        TorchZipWriter.WriteCheckpoint(path, new PickleBuilder().Proto().Op(0x86).Stop().ToArray(), new Dictionary<string, byte[]>());

        Assert.Equal($"'{path}' (archive/data.pkl): malformed pickle at byte 2 (TUPLE2): the stack is empty.", Message(path));
    }
}
