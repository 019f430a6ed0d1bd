using Sharpformers.Utils;

namespace Sharpformers.Utils.Tests;

public sealed class AtomicFileTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("sf-atomic-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void WriteReplacesContentAndLeavesNoTempFiles()
    {
        string path = Path.Combine(dir, "a.txt");
        AtomicFile.WriteAllText(path, "first");
        AtomicFile.WriteAllText(path, "second");
        Assert.Equal("second", File.ReadAllText(path));
        Assert.Equal(["a.txt"], Directory.GetFiles(dir).Select(Path.GetFileName));
    }

    [Fact]
    public void FailedWriteKeepsThePreviousFile()
    {
        string path = Path.Combine(dir, "a.txt");
        AtomicFile.WriteAllText(path, "kept");
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s =>
        {
            s.Write("partial"u8);
            throw new InvalidOperationException("killed midway");
        }));
        Assert.Equal("kept", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(dir));
    }

    [Fact]
    public void DirectoryIsReplacedWhole()
    {
        string target = Path.Combine(dir, "checkpoint-1");
        AtomicDirectory.Create(target, t => File.WriteAllText(Path.Combine(t, "old.txt"), "1"));
        AtomicDirectory.Create(target, t => File.WriteAllText(Path.Combine(t, "new.txt"), "2"));
        Assert.Equal(["new.txt"], Directory.GetFiles(target).Select(Path.GetFileName));
        Assert.Throws<IOException>(() => AtomicDirectory.Create(target, _ => throw new IOException("disk full")));
        Assert.Equal(["new.txt"], Directory.GetFiles(target).Select(Path.GetFileName));
        Assert.Equal(["checkpoint-1"], Directory.GetDirectories(dir).Select(Path.GetFileName));
    }
}
