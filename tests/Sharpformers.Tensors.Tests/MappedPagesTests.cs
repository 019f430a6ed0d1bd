using System.Runtime.InteropServices;
using Sharpformers.Tensors.Storage;

namespace Sharpformers.Tensors.Tests;

public sealed class MappedPagesTests
{
    private static int PageFloats => Environment.SystemPageSize / sizeof(float);

    private static string WriteFloats(int count, out float[] values)
    {
        values = new float[count];
        for (int i = 0; i < count; i++) values[i] = i * 0.5f - 7f;
        string path = Path.Combine(Path.GetTempPath(), $"mapped-pages-{Guid.NewGuid():N}.bin");
        File.WriteAllBytes(path, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
        return path;
    }

    [Fact]
    public void ReleasesCleanFilePagesAndTheValuesComeBack()
    {
        if (!OperatingSystem.IsLinux()) return; // a no-op elsewhere (nothing is released)
        string path = WriteFloats(64 * PageFloats, out var values); // 64 pages
        try
        {
            using var file = MappedFile.Open(path);
            var memory = file.Float32(0, values.Length);
            double sum = 0;
            foreach (float v in memory.Span) sum += v; // fault every page in
            long released = MappedPages.TryRelease(memory);
            Assert.Equal(values.Length * sizeof(float), released);
            Assert.True(memory.Span.SequenceEqual(values), "values read back after release differ");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void KeepsPagesThatWereWrittenAndManagedMemory()
    {
        if (!OperatingSystem.IsLinux()) return;
        string path = WriteFloats(16 * PageFloats, out var values);
        try
        {
            using var file = MappedFile.Open(path);
            var memory = file.Float32(0, values.Length);
            memory.Span[5 * PageFloats + 3] = 42f; // copy-on-write: a private page now holds the only copy of this value
            Assert.Equal(0, MappedPages.TryRelease(memory));
            Assert.Equal(42f, memory.Span[5 * PageFloats + 3]);
            Assert.Equal(values[5 * PageFloats + 2], memory.Span[5 * PageFloats + 2]);
            Assert.Equal(0, MappedPages.TryRelease(new float[100_000]));
            Assert.Equal(0, MappedPages.TryRelease(Memory<float>.Empty));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void LeavesPartialPagesAtTheEdgesAlone()
    {
        if (!OperatingSystem.IsLinux()) return;
        string path = WriteFloats(8 * PageFloats, out var values); // 8 pages
        try
        {
            using var file = MappedFile.Open(path);
            // Starts 1 float into page 0 and ends 1 float short of page 8: only pages 1..6 are whole.
            var memory = file.Float32(sizeof(float), values.Length - 2);
            foreach (float _ in memory.Span) { }
            Assert.Equal(6 * Environment.SystemPageSize, MappedPages.TryRelease(memory));
            Assert.True(memory.Span.SequenceEqual(values.AsSpan(1, values.Length - 2)));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
