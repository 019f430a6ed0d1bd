using Sharpformers.Utils;

namespace Sharpformers.Utils.Tests;

public sealed class ProgressBarTests
{
    [Fact]
    public void RendersPercentCountsRateAndEta()
    {
        var bar = new ProgressBar("Training", 1000, writer: TextWriter.Null, interactive: false);
        bar.Report(420);
        bar.SetPostfix("loss=0.1234");
        string line = bar.Render(TimeSpan.FromSeconds(12));
        Assert.StartsWith("Training:  42%|██████████", line);
        Assert.Contains("| 420/1000 [00:12<00:16, 35.00it/s] loss=0.1234", line);
    }

    [Fact]
    public void RedirectedOutputWritesPlainLines()
    {
        var writer = new StringWriter();
        using (var bar = new ProgressBar("Downloading", 2_000_000, unit: "B", writer: writer, interactive: false))
        {
            bar.Advance(1_000_000);
        }
        string[] lines = writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Contains("1.0MB/2.0MB", lines[0]);
        Assert.DoesNotContain("\r", writer.ToString());
    }
}
