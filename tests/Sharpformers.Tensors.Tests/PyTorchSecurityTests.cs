using Sharpformers.Tensors.Formats.PyTorch;
using static Sharpformers.Tensors.Tests.PyTorchPaths;

namespace Sharpformers.Tensors.Tests;

/// <summary>
/// Hostile pickles, crafted opcode by opcode: each must be refused with a message naming what was
/// refused, and nothing may ever run.
/// </summary>
public sealed class PyTorchSecurityTests
{
    private const string NeverExecutes =
        "Sharpformers never executes code from a checkpoint; convert it to safetensors with a Python installation you trust.";

    private readonly string dir = NewTempDir();

    private (string Path, string Source) Write(byte[] pickle)
    {
        string path = Path.Combine(dir, "model.bin");
        TorchZipWriter.WriteCheckpoint(path, pickle, new Dictionary<string, byte[]>());
        return (path, $"'{path}' (archive/data.pkl)");
    }

    [Fact]
    public void OsSystem_IsRefusedByName_AndNeverRuns()
    {
        string marker = Path.Combine(dir, "pwned");
        var (path, source) = Write(new PickleBuilder().Proto()
            .Global("os", "system").Str($"touch {marker}").Op(0x85).Reduce().Stop().ToArray());

        var e = Assert.Throws<InvalidDataException>(() => PyTorchCheckpointReader.Open(path));

        Assert.Equal(
            $"{source} is not a plain PyTorch state dict: the pickle references the global 'os.system', which is not allowed " +
            "(only collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter and torch.*Storage are). " +
            NeverExecutes,
            e.Message);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public void BuiltinsEval_ThroughStackGlobal_IsRefused()
    {
        // Protocol 4 spelling: the module and name are pushed as strings, then STACK_GLOBAL.
        var (path, source) = Write(new PickleBuilder().Proto(4)
            .Str("builtins").Str("eval").Op(0x93).Str("__import__('os').getpid()").Op(0x85).Reduce().Stop().ToArray());

        var e = Assert.Throws<InvalidDataException>(() => PyTorchCheckpointReader.Open(path));

        Assert.Equal(
            $"{source} is not a plain PyTorch state dict: the pickle references the global 'builtins.eval', which is not allowed " +
            "(only collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter and torch.*Storage are). " +
            NeverExecutes,
            e.Message);
    }

    [Fact]
    public void HiddenInsideAStateDict_ASubprocessCallIsStillRefused()
    {
        // A valid-looking state dict whose second value is a __reduce__ payload.
        var pickle = new PickleBuilder().Proto().Op((byte)'}').Mark()
            .Str("w").Tensor("FloatStorage", "0", 1, 0, [1], [1])
            .Str("evil").Global("subprocess", "check_output").Mark().Str("id").Op((byte)'l').Op(0x85).Reduce()
            .Op((byte)'u').Stop().ToArray();
        var (path, source) = Write(pickle);

        var e = Assert.Throws<InvalidDataException>(() => PyTorchCheckpointReader.Open(path));

        Assert.StartsWith($"{source} is not a plain PyTorch state dict: the pickle references the global 'subprocess.check_output', which is not allowed", e.Message);
    }

    [Fact]
    public void ReduceOnAnAllowedStorageType_IsRefused()
    {
        var (path, source) = Write(new PickleBuilder().Proto().Global("torch", "FloatStorage").EmptyTuple().Reduce().Stop().ToArray());

        var e = Assert.Throws<InvalidDataException>(() => PyTorchCheckpointReader.Open(path));

        Assert.Equal(
            $"{source} is not a plain PyTorch state dict: the pickle calls 'torch.FloatStorage' (REDUCE), which is only allowed as a storage type, " +
            $"not as a function. {NeverExecutes}",
            e.Message);
    }

    [Fact]
    public void ReduceOnSomethingThatIsNotAGlobal_IsRefused()
    {
        var (path, source) = Write(new PickleBuilder().Proto().Str("os.system").Str("id").Op(0x85).Reduce().Stop().ToArray());

        var e = Assert.Throws<InvalidDataException>(() => PyTorchCheckpointReader.Open(path));

        Assert.Equal($"{source} is not a plain PyTorch state dict: the pickle calls a str (REDUCE), which is not an allowed function. {NeverExecutes}", e.Message);
    }

    [Fact]
    public void InstOpcode_IsRefusedByName()
    {
        var (path, source) = Write(new PickleBuilder().Proto().Mark().Str("id").Op((byte)'i').Text("os").Text("system").Stop().ToArray());

        var e = Assert.Throws<InvalidDataException>(() => PyTorchCheckpointReader.Open(path));

        Assert.Equal($"{source} is not a plain PyTorch state dict: the pickle instantiates 'os.system' (INST), which is not allowed. {NeverExecutes}", e.Message);
    }

    [Fact]
    public void NewObjOnAnAllowedClass_IsRefused()
    {
        var (path, source) = Write(new PickleBuilder().Proto().Global("collections", "OrderedDict").EmptyTuple().Op(0x81).Stop().ToArray());

        var e = Assert.Throws<InvalidDataException>(() => PyTorchCheckpointReader.Open(path));

        Assert.Equal(
            $"{source} is not a plain PyTorch state dict: the pickle instantiates 'collections.OrderedDict' (NEWOBJ), which is not allowed. {NeverExecutes}",
            e.Message);
    }

    [Fact]
    public void ExtensionRegistry_IsRefused()
    {
        var (path, source) = Write(new PickleBuilder().Proto().Op(0x82, 7).Stop().ToArray());

        var e = Assert.Throws<InvalidDataException>(() => PyTorchCheckpointReader.Open(path));

        Assert.Equal(
            $"{source} is not a plain PyTorch state dict: the pickle uses the copyreg extension registry (EXT1 code 7), which is not allowed. {NeverExecutes}",
            e.Message);
    }

    [Fact]
    public void BuildOnATensor_IsRefused()
    {
        var pickle = new PickleBuilder().Proto().Tensor("FloatStorage", "0", 1, 0, [1], [1]).Op((byte)'}').Op((byte)'b').Stop().ToArray();
        var (path, source) = Write(pickle);

        var e = Assert.Throws<InvalidDataException>(() => PyTorchCheckpointReader.Open(path));

        Assert.Equal($"{source} is not a plain PyTorch state dict: the pickle sets the state of a tensor (BUILD), which is not allowed. {NeverExecutes}", e.Message);
    }

    [Fact]
    public void UnsupportedTorchStorageType_SaysWhichTypesAreSupported()
    {
        var pickle = new PickleBuilder().Proto().Op((byte)'}').Mark().Str("c").Tensor("ComplexFloatStorage", "0", 1, 0, [1], [1]).Op((byte)'u').Stop().ToArray();
        var (path, source) = Write(pickle);

        var e = Assert.Throws<InvalidDataException>(() => PyTorchCheckpointReader.Open(path));

        Assert.Equal(
            $"{source}: tensors of storage type 'torch.ComplexFloatStorage' are not supported (supported: torch.FloatStorage, torch.HalfStorage, " +
            "torch.BFloat16Storage, torch.DoubleStorage, torch.LongStorage, torch.IntStorage, torch.ShortStorage, torch.CharStorage, " +
            "torch.ByteStorage, torch.BoolStorage).",
            e.Message);
    }
}
