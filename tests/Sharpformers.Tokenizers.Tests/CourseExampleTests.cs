using Sharpformers.TestSupport;

namespace Sharpformers.Tokenizers.Tests;

/// <summary>The seeds of the project: the Hugging Face course's examples give exactly transformers' ids.</summary>
public sealed class CourseExampleTests
{
    private static readonly string[] RawInputs =
    [
        "I've been waiting for a HuggingFace course my whole life.",
        "I hate this so much!",
    ];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BertBaseUncasedPaddingAndTruncationGiveTheCourseIds(bool useFast)
    {
        var tokenizer = AutoTokenizer.FromPretrained(Fixtures.Vocab("bert-base-uncased"), new TokenizerLoadOptions { UseFast = useFast });
        var inputs = tokenizer.Call(RawInputs, padding: true, truncation: true);
        int[][] expectedIds =
        [
            [101, 1045, 1005, 2310, 2042, 3403, 2005, 1037, 17662, 12172, 2607, 2026, 2878, 2166, 1012, 102],
            [101, 1045, 5223, 2023, 2061, 2172, 999, 102, 0, 0, 0, 0, 0, 0, 0, 0],
        ];
        int[][] expectedMask =
        [
            [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
            [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0],
        ];
        Assert.Equal(expectedIds, inputs.InputIds);
        Assert.Equal(expectedMask, inputs.AttentionMask);
        Assert.Equal(16, inputs.SequenceLength);
        // This folder's tokenizer_config.json names DistilBertTokenizer, whose model takes no token_type_ids.
        Assert.Equal("DistilBertTokenizer", tokenizer.TokenizerClass);
        Assert.Null(inputs.TokenTypeIds);
    }

    [Fact]
    public void TheTruncationAndPaddingStoredInTokenizerJsonDoNotApply()
    {
        // vocab/bert-base-uncased/tokenizer.json stores truncation to 128 and fixed padding to 128; transformers
        // replaces both with each call's arguments, so a short text stays short and a long one is not cut.
        var tokenizer = AutoTokenizer.FromPretrained(Fixtures.Vocab("bert-base-uncased"));
        Assert.True(tokenizer.IsFast);
        Assert.Equal([101, 7592, 102], tokenizer.Call("hello").InputIds[0]);
        string longText = string.Join(' ', Enumerable.Repeat("hello", 600));
        Assert.Equal(602, tokenizer.Call(longText).InputIds[0].Length);
        Assert.Equal(512, tokenizer.Call(longText, truncation: true).InputIds[0].Length); // model_max_length from the config
    }

    [Fact]
    public void BertBaseChineseGivesTheCourseIds()
    {
        var tokenizer = AutoTokenizer.FromPretrained(Fixtures.Vocab("bert-base-chinese"));
        var inputs = tokenizer.Call("弱小的我也有大梦想！");
        Assert.Equal([101, 2483, 2207, 4638, 2769, 738, 3300, 1920, 3457, 2682, 8013, 102], inputs.InputIds[0]);
        Assert.Equal(new int[12], inputs.TokenTypeIds![0]);
        Assert.All(inputs.AttentionMask[0], m => Assert.Equal(1, m));
        // vocab.txt is split on line ends only: U+2028 (LINE SEPARATOR) is token 343, and there are 21,128 tokens.
        Assert.Equal(21_128, tokenizer.VocabSize);
        Assert.Equal("\u2028", tokenizer.ConvertIdToToken(343));
        Assert.Equal(343, tokenizer.ConvertTokenToId("\u2028"));
    }

    [Fact]
    public void CourseTokensAndDecode()
    {
        var tokenizer = AutoTokenizer.FromPretrained(Fixtures.Vocab("bert-base-uncased"), new TokenizerLoadOptions { UseFast = false });
        var tokens = tokenizer.Tokenize("Using a Transformer network is simple");
        Assert.Equal(["using", "a", "transform", "##er", "network", "is", "simple"], tokens);
        var ids = tokenizer.ConvertTokensToIds(tokens);
        Assert.Equal([2478, 1037, 10938, 2121, 2897, 2003, 3722], ids);
        Assert.Equal("using a transformer network is simple", tokenizer.Decode(ids));
    }
}
