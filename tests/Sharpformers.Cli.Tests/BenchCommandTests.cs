using System.Text.Json;
using Sharpformers.Cli;
using Sharpformers.Cli.Infrastructure;
using Sharpformers.Kernels;

namespace Sharpformers.Cli.Tests;

public sealed class BenchCommandTests
{
    private static (int Exit, string Out, string Error) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var context = new CliContext { In = new StringReader(""), Out = stdout, Error = stderr };
        int exit = new CliApp(CommandRegistry.All()).Run(args, context);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void SgemmWritesOneJsonLinePerSizeAndThreadCount()
    {
        int threadsBefore = KernelParallel.MaxThreads;
        string output = Path.Combine(Path.GetTempPath(), $"bench-{Guid.NewGuid():N}.jsonl");
        try
        {
            var (exit, stdout, stderr) = Run("bench", "sgemm", "--sizes", "40,8x24x16", "--threads", "1,2", "--repeats", "3", "--warmup", "1", "--output", output);
            Assert.Equal(0, exit);
            Assert.Equal("", stderr);
            var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(4, lines.Length);
            Assert.Equal(stdout, File.ReadAllText(output));
            var expected = new[] { (40, 40, 40, 1), (40, 40, 40, 2), (8, 24, 16, 1), (8, 24, 16, 2) };
            for (int i = 0; i < lines.Length; i++)
            {
                using var doc = JsonDocument.Parse(lines[i]);
                var root = doc.RootElement;
                Assert.Equal("sgemm", root.GetProperty("workload").GetString());
                var (m, n, k, threads) = expected[i];
                Assert.Equal(m, root.GetProperty("m").GetInt32());
                Assert.Equal(n, root.GetProperty("n").GetInt32());
                Assert.Equal(k, root.GetProperty("k").GetInt32());
                Assert.Equal(threads, root.GetProperty("threads").GetInt32());
                Assert.Equal(3, root.GetProperty("repeats").GetInt32());
                double min = root.GetProperty("min_s").GetDouble();
                double median = root.GetProperty("median_s").GetDouble();
                double max = root.GetProperty("max_s").GetDouble();
                Assert.True(min > 0 && min <= median && median <= max, lines[i]);
                double gflops = root.GetProperty("gflops").GetDouble();
                Assert.Equal(2.0 * m * n * k / median / 1e9, gflops, 1e-6 * gflops + 1e-9);
            }
            Assert.Equal(threadsBefore, KernelParallel.MaxThreads);
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public void PackedTransposedVariantRuns()
    {
        var (exit, stdout, _) = Run("bench", "sgemm", "--sizes", "16x96x64", "--threads", "1", "--repeats", "1", "--trans", "nt", "--packed");
        Assert.Equal(0, exit);
        using var doc = JsonDocument.Parse(stdout.Trim());
        Assert.Equal("NT", doc.RootElement.GetProperty("trans").GetString());
        Assert.True(doc.RootElement.GetProperty("packed").GetBoolean());
    }

    [Theory]
    [InlineData("error: name a workload", "bench")]
    [InlineData("error: unknown workload 'gemm'", "bench", "gemm")]
    [InlineData("error: option '--sizes' expects N or MxNxK", "bench", "sgemm", "--sizes", "12x3")]
    [InlineData("error: option '--threads' expects comma-separated integers of at least 1", "bench", "sgemm", "--threads", "0")]
    [InlineData("error: option '--trans' expects two letters", "bench", "sgemm", "--trans", "NX")]
    [InlineData("error: option '--repeats' must be at least 1", "bench", "sgemm", "--repeats", "0")]
    public void BadArgumentsAreUsageErrors(string message, params string[] args)
    {
        var (exit, stdout, stderr) = Run(args);
        Assert.Equal(CliApp.UsageError, exit);
        Assert.Equal("", stdout);
        Assert.StartsWith(message, stderr);
    }
}
