namespace Sharpformers.Hub.Tests;

public sealed class FilePatternsTests
{
    [Theory]
    [InlineData("config.json", "*.json", true)]
    [InlineData("onnx/model.onnx", "*.onnx", true)]
    [InlineData("onnx/model.onnx", "onnx/*", true)]
    [InlineData("onnx/model.onnx", "onnx/", false)]
    [InlineData("model-00001-of-00002.safetensors", "model-0000?-of-00002.safetensors", true)]
    [InlineData("vocab.txt", "[uv]ocab.txt", true)]
    [InlineData("vocab.txt", "[!v]ocab.txt", false)]
    [InlineData("Config.json", "config.json", false)]
    [InlineData("a.json.bak", "*.json", false)]
    public void IsMatch_BehavesLikePythonFnmatch(string path, string pattern, bool matches)
    {
        Assert.Equal(matches, FilePatterns.IsMatch(path, pattern));
    }

    [Fact]
    public void Filter_AllowsThenIgnores_AndTreatsATrailingSlashAsAFolder()
    {
        string[] files = ["config.json", "model.safetensors", "onnx/model.onnx", "onnx/config.json", "README.md"];

        Assert.Equal(["config.json", "onnx/config.json"], FilePatterns.Filter(files, ["*.json"], null));
        Assert.Equal(["onnx/model.onnx", "onnx/config.json"], FilePatterns.Filter(files, ["onnx/"], null));
        Assert.Equal(["config.json", "model.safetensors", "README.md"], FilePatterns.Filter(files, null, ["onnx/"]));
        Assert.Equal(files, FilePatterns.Filter(files, [], []));
    }
}
