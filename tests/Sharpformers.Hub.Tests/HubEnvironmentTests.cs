namespace Sharpformers.Hub.Tests;

public sealed class HubEnvironmentTests
{
    private static HubEnvironment Env(params (string Name, string Value)[] variables) =>
        HubEnvironment.FromVariables(variables.ToDictionary(v => v.Name, v => v.Value));

    private static string Home => Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

    [Fact]
    public void Defaults_AreThoseOfHuggingfaceHub()
    {
        var env = Env();

        Assert.Equal("https://huggingface.co", env.Endpoint);
        Assert.Equal(Path.Combine(Home, ".cache", "huggingface"), env.HfHome);
        Assert.Equal(Path.Combine(Home, ".cache", "huggingface", "hub"), env.HubCache);
        Assert.Equal(Path.Combine(Home, ".cache", "huggingface", "token"), env.TokenPath);
        Assert.False(env.Offline);
        Assert.Null(env.ProgressBarsDisabled);
    }

    [Fact]
    public void CacheFolders_FollowXdgHfHomeAndHfHubCache_InThatPrecedence()
    {
        Assert.Equal("/x/huggingface/hub", Env(("XDG_CACHE_HOME", "/x")).HubCache);
        Assert.Equal("/h/hub", Env(("XDG_CACHE_HOME", "/x"), ("HF_HOME", "/h")).HubCache);
        Assert.Equal("/legacy", Env(("HF_HOME", "/h"), ("HUGGINGFACE_HUB_CACHE", "/legacy")).HubCache);
        Assert.Equal("/c", Env(("HF_HOME", "/h"), ("HUGGINGFACE_HUB_CACHE", "/legacy"), ("HF_HUB_CACHE", "/c")).HubCache);
        Assert.Equal(Path.Combine(Home, "hf"), Env(("HF_HOME", "~/hf")).HfHome);
    }

    [Theory]
    [InlineData("1", true)]
    [InlineData("ON", true)]
    [InlineData("yes", true)]
    [InlineData("True", true)]
    [InlineData("0", false)]
    [InlineData("false", false)]
    [InlineData("", false)]
    public void Offline_AcceptsThePythonTruthyValues(string value, bool offline)
    {
        Assert.Equal(offline, Env(("HF_HUB_OFFLINE", value)).Offline);
    }

    [Fact]
    public void Offline_FallsBackToTransformersOffline_WhenHfHubOfflineIsEmpty()
    {
        Assert.True(Env(("TRANSFORMERS_OFFLINE", "1")).Offline);
        Assert.True(Env(("HF_HUB_OFFLINE", ""), ("TRANSFORMERS_OFFLINE", "1")).Offline);
        Assert.False(Env(("HF_HUB_OFFLINE", "0"), ("TRANSFORMERS_OFFLINE", "1")).Offline);
    }

    [Fact]
    public void Token_ComesFromHfToken_ThenTheTokenFile_AndIsCleaned()
    {
        string home = Path.Combine(Path.GetTempPath(), "sharpformers-env-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(home);
        try
        {
            File.WriteAllText(Path.Combine(home, "token"), "hf_from_file\r\n");
            Assert.Equal("hf_from_file", Env(("HF_HOME", home)).Token);
            Assert.Equal("hf_from_var", Env(("HF_HOME", home), ("HF_TOKEN", " hf_from_var\n")).Token);
            Assert.Equal("hf_legacy", Env(("HF_HOME", home), ("HUGGING_FACE_HUB_TOKEN", "hf_legacy")).Token);
            Assert.Null(Env(("HF_HOME", Path.Combine(home, "none"))).Token);
            Assert.Equal("hf_from_file", Env(("HF_TOKEN_PATH", Path.Combine(home, "token"))).Token);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    [Fact]
    public void Endpoint_IsTrimmedOfItsTrailingSlash()
    {
        Assert.Equal("https://mirror.example", Env(("HF_ENDPOINT", "https://mirror.example/")).Endpoint);
        Assert.Equal("https://huggingface.co", Env(("HF_ENDPOINT", "")).Endpoint);
    }
}
