using Sharpformers.TestSupport;

namespace Sharpformers.Tokenizers.Tests;

/// <summary>The transformers-level API: offsets, words, overflow with stride, padding, truncation rules, decoding.</summary>
public sealed class EncodingApiTests
{
    private static readonly Lazy<PreTrainedTokenizer> Uncased = new(() => AutoTokenizer.FromPretrained(Fixtures.Vocab("bert-base-uncased")));

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void OffsetsPointIntoTheOriginalText(bool useFast)
    {
        var tokenizer = AutoTokenizer.FromPretrained(Fixtures.Vocab("bert-base-uncased"), new TokenizerLoadOptions { UseFast = useFast });
        const string text = "My name is Sylvain and I work at Hügging Face in Brooklyn.";
        var e = tokenizer.Call(text).Encodings[0];
        Assert.Equal(["[CLS]", "my", "name", "is", "sy", "##lva", "##in", "and", "i", "work", "at", "hugging", "face", "in", "brooklyn", ".", "[SEP]"], e.Tokens);
        Assert.Equal([(0, 0), (0, 2), (3, 7), (8, 10), (11, 13), (13, 16), (16, 18), (19, 22), (23, 24), (25, 29), (30, 32), (33, 40),
            (41, 45), (46, 48), (49, 57), (57, 58), (0, 0)], e.Offsets);
        Assert.Equal("Hügging", text[33..40]);
        Assert.Equal([null, 0, 1, 2, 3, 3, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, null], e.WordIds);
        Assert.Equal(11, e.CharToToken(34));
        Assert.Equal(8, e.CharToWord(34));
        Assert.Equal((33, 40), e.WordToChars(8));
        Assert.Equal((11, 12), e.WordToTokens(8));
        Assert.Equal((11, 18), e.WordToChars(3));
        Assert.Null(e.TokenToChars(0));
        Assert.Equal([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], e.SpecialTokensMask);
    }

    [Fact]
    public void OffsetsOfSupplementaryCharactersAreUtf16Ranges()
    {
        var e = Uncased.Value.Call("a 😀 b").Encodings[0];
        Assert.Equal(["[CLS]", "a", "[UNK]", "b", "[SEP]"], e.Tokens);
        Assert.Equal((2, 4), e.Offsets[2]);
    }

    [Fact]
    public void PairsHaveSequenceIds()
    {
        var batch = Uncased.Value.Call("How old are you?", "I am 6.");
        Assert.Equal([null, 0, 0, 0, 0, 0, null, 1, 1, 1, 1, null], batch.SequenceIds(0));
        Assert.Equal(1, batch.TokenToSequence(0, 7));
        Assert.Equal((0, 1), batch.TokenToChars(0, 7));
    }

    [Fact]
    public void OverflowWithStrideAsForQuestionAnswering()
    {
        // The course's question answering preprocessing: truncate the context only, keep windows overlapping by the stride.
        const string question = "Where do I live?";
        const string context = "My name is Sylvain and I work at Hugging Face in Brooklyn. I live in New York, which is a big city.";
        var inputs = Uncased.Value.Call([question], [context], truncation: TruncationStrategy.OnlySecond, maxLength: 20, stride: 4,
            returnOverflowingTokens: true);
        var full = Uncased.Value.Call(question, context).Encodings[0];
        int questionLength = 7; // [CLS] where do i live ? [SEP]
        int contextLength = full.Length - questionLength - 1;
        int window = 20 - questionLength - 1;
        int expectedRows = 1 + (int)Math.Ceiling((contextLength - window) / (double)(window - 4));
        Assert.Equal(expectedRows, inputs.Count);
        Assert.Equal(Enumerable.Repeat(0, expectedRows), inputs.OverflowToSampleMapping!);
        var contextIds = full.Ids[questionLength..^1];
        for (int row = 0; row < inputs.Count; row++)
        {
            int[] ids = inputs.InputIds[row];
            Assert.True(ids.Length <= 20);
            Assert.Equal(full.Ids[..questionLength], ids[..questionLength]);
            Assert.Equal(102, ids[^1]);
            int start = row * (window - 4);
            Assert.Equal(contextIds[start..Math.Min(start + window, contextIds.Length)], ids[questionLength..^1]);
            Assert.Equal(1, inputs.SequenceIds(row)[questionLength]);
        }
        // Offsets of every window still point into the context.
        var last = inputs.Encodings[^1];
        int lastContextToken = last.Length - 2;
        Assert.Equal("city", context[last.Offsets[lastContextToken - 1].Start..last.Offsets[lastContextToken - 1].End]);
    }

    [Fact]
    public void PaddingSideAndMultiple()
    {
        var left = Uncased.Value.Call(["hi", "hello there"], padding: true, padToMultipleOf: 8, maxDegreeOfParallelism: 1);
        Assert.Equal(8, left.SequenceLength);
        var options = new EncodeOptions { Padding = true, PaddingSide = Side.Left };
        var leftPadded = Uncased.Value.Call(["hi", "hello there"], null, options);
        Assert.Equal([0, 101, 7632, 102], leftPadded.InputIds[0]);
        Assert.Equal([0, 1, 1, 1], leftPadded.AttentionMask[0]);
        Assert.Equal([1, 1, 0, 1], leftPadded.SpecialTokensMask[0]);
    }

    [Fact]
    public void TruncationRules()
    {
        var tiny = AutoTokenizer.FromPretrained(Fixtures.Model("tiny-bert")); // model_max_length 64
        string longText = string.Join(' ', Enumerable.Repeat("word", 100));
        Assert.Equal(64, tiny.Call(longText, truncation: true).InputIds[0].Length);
        Assert.Equal(102, tiny.Encode(longText, maxLength: 10).Length == 10 ? 102 : -1); // max_length alone truncates
        Assert.Equal(10, tiny.Call(longText, maxLength: 10).InputIds[0].Length);
        Assert.Equal(102, tiny.Call(longText, padding: PaddingStrategy.MaxLength, maxLength: 10).InputIds[0].Length);
        var chinese = AutoTokenizer.FromPretrained(Fixtures.Vocab("bert-base-chinese")); // no model_max_length: no limit
        Assert.Equal(long.MaxValue, chinese.ModelMaxLength);
        Assert.Equal(102, chinese.Call(longText, truncation: true).InputIds[0].Length);
        // Truncating from the left keeps the end.
        tiny.TruncationSide = Side.Left;
        var kept = tiny.Call("one two three four five", maxLength: 4).Encodings[0].Tokens;
        tiny.TruncationSide = Side.Right;
        Assert.Equal(4, kept.Length);
        Assert.Equal("[SEP]", kept[^1]);
    }

    [Fact]
    public void PairTruncationStrategies()
    {
        var t = Uncased.Value;
        string a = "one two three four five six", b = "seven eight";
        Assert.Equal([101, 2028, 2048, 2093, 102, 2698, 2809, 102], t.Encode(a, b, truncation: TruncationStrategy.OnlyFirst, maxLength: 8));
        // longest_first (transformers' arithmetic): 14 tokens to 8 removes 1 from the longer, then 5 split 2 / 3.
        Assert.Equal([101, 2028, 2048, 2093, 102, 2698, 2809, 102],
            t.Encode(a, "seven eight nine ten eleven", truncation: TruncationStrategy.LongestFirst, maxLength: 8));
        // only_second cannot remove 5 tokens from a 2-token sequence: transformers leaves the pair as it is.
        Assert.Equal(11, t.Encode(a, b, truncation: TruncationStrategy.OnlySecond, maxLength: 6).Length);
    }

    [Fact]
    public void PaddingNeedsAPadToken()
    {
        var gpt2 = AutoTokenizer.FromPretrained(Fixtures.Vocab("gpt2"));
        var e = Assert.Throws<InvalidOperationException>(() => gpt2.Call(["a", "b c"], padding: true));
        Assert.Contains("Asking to pad but the tokenizer does not have a padding token", e.Message);
        gpt2.SpecialTokens.PadToken = gpt2.SpecialTokens.EosToken;
        Assert.Equal(50256, gpt2.Call(["a", "b c"], padding: true).InputIds[0][^1]);
    }

    [Fact]
    public void PadToMultipleMustDivideTheTruncationLength()
    {
        var e = Assert.Throws<ArgumentException>(() => Uncased.Value.Call("x", padding: true, truncation: true, maxLength: 10, padToMultipleOf: 8));
        Assert.Contains("not a multiple of pad_to_multiple_of", e.Message);
    }

    [Theory]
    [InlineData("vocab/bert-base-uncased")]
    [InlineData("vocab/roberta-base")]
    [InlineData("models/tiny-albert")]
    [InlineData("models/tiny-xlm-roberta")]
    public void ParallelBatchKeepsOrder(string folder)
    {
        // Several threads share the tokenizer (caches, lazily built tables): results must not depend on it.
        var tokenizer = AutoTokenizer.FromPretrained(Path.Combine(Fixtures.Root, folder));
        var texts = Enumerable.Range(0, 600).Select(i => $"sentence {i} with {new string('x', i % 13)} wörds ünïcode {i * 7919 % 1000}").ToList();
        var parallel = tokenizer.Call(texts, maxDegreeOfParallelism: 4);
        var sequential = tokenizer.Call(texts);
        Assert.Equal(sequential.InputIds, parallel.InputIds);
        Assert.Equal(sequential.OffsetMapping, parallel.OffsetMapping);
    }

    [Fact]
    public void DecodeAndConversions()
    {
        var t = Uncased.Value;
        int[] ids = t.Encode("Hello, world! Isn't it?");
        Assert.Equal("[CLS] hello, world! isn't it? [SEP]", t.Decode(ids, cleanUpTokenizationSpaces: true));
        // tokenizer.json's WordPiece decoder cleans up token by token whatever the transformers flag says.
        Assert.Equal("hello, world! isn ' t it?", t.Decode(ids, skipSpecialTokens: true, cleanUpTokenizationSpaces: false));
        Assert.Equal(["hello", ",", "world", "!", "isn", "'", "t", "it", "?"], t.ConvertIdsToTokens(ids, skipSpecialTokens: true));
        Assert.Equal(["hello", "world"], t.BatchDecode([[7592], [2088]]));
        Assert.Equal([100, 7592], t.ConvertTokensToIds(["not-a-token", "hello"]));
        Assert.Equal([101, 102, 0, 100, 103], t.AllSpecialIds.OrderBy(x => x == 101 ? 0 : x == 102 ? 1 : x == 0 ? 2 : x == 100 ? 3 : 4));
        Assert.Equal(30522, t.VocabSize);
        Assert.Equal(30522, t.Count);
    }

    [Fact]
    public void AddedTokensAreKeptWhole()
    {
        var t = AutoTokenizer.FromPretrained(Fixtures.Vocab("bert-base-uncased"), new TokenizerLoadOptions { UseFast = false });
        Assert.Equal(1, t.AddTokens("sharpformers"));
        Assert.Equal(30522, t.ConvertTokenToId("sharpformers"));
        Assert.Equal(["i", "like", "sharpformers", "!"], t.Tokenize("I like sharpformers!"));
        // An added token is decoded apart and joined with spaces; this folder's config turns clean-up off.
        Assert.Equal("i like sharpformers !", t.Decode(t.Encode("I like sharpformers!"), skipSpecialTokens: true));
        Assert.Equal("i like sharpformers!", t.Decode(t.Encode("I like sharpformers!"), skipSpecialTokens: true, cleanUpTokenizationSpaces: true));
        Assert.Equal(30523, t.Count);
    }

    [Fact]
    public void PadAfterwardsLikeACollator()
    {
        var t = Uncased.Value;
        var encodings = new[] { "short", "a much longer sentence" }.Select(s => t.Call(s).Encodings[0]).ToList();
        var batch = t.Pad(encodings, PaddingStrategy.Longest);
        Assert.True(batch.IsRectangular);
        Assert.Equal(6, batch.SequenceLength);
        Assert.Equal(3, encodings[0].Length); // the inputs are not changed
        Assert.Equal([101, 2460, 102, 0, 0, 0], batch.InputIds[0]);
        Assert.Equal(12, BatchEncoding.Flatten(batch.InputIds).Length);
    }
}
