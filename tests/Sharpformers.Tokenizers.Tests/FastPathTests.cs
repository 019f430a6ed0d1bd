using System.Text.Json;
using Sharpformers.TestSupport;

namespace Sharpformers.Tokenizers.Tests;

/// <summary>The fused BERT path gives exactly what the general Normalizer → PreTokenizer → WordPiece path gives.</summary>
public sealed class FastPathTests
{
    /// <summary>Strings that exercise the corners of the fused path.</summary>
    internal static readonly string[] TrickyStrings =
    [
        "", " ", "Hello, World!", "e\u0301te\u0301", "Cafe\u0301 ne\u0301e", "A\u030A\u0323", "ﬁnance ﬂow", "Ｈｅｌｌｏ",
        "😀 emoji 🍕!", "𠀀𠀁 ext-B", "\U0001D400\U0001D401 math", "\U00010100 aegean", "豈 compat", "한국어 ᄒ\u1161\u11AB",
        "İstanbul ΣΊΣΥΦΟΣ", "a\u0000b\u200bc\ufeffd\ufffde", "tab\there\nnew\u2028line\u3000ideo", "[MASK] x[CLS]y [unused1]",
        new string('a', 101), new string('x', 99) + "é", "don't stop-believing... 3.14 $5", "日本語のテキストと中文",
        "\u0300leading mark", "ß ẞ ǅ Ǆ", "<br /><br />Movie was great", "\ud800 lone \udc00 surrogates",
    ];

    public static TheoryData<string, bool> Tokenizers() => new()
    {
        { "vocab/bert-base-uncased", false },
        { "vocab/bert-base-uncased", true },
        { "vocab/bert-base-chinese", false },
        { "models/tiny-bert", false },
        { "models/tiny-electra", false },
        { "vocab/roberta-base", false },
        { "vocab/gpt2", false },
        { "models/tiny-roberta", false },
    };

    internal static IEnumerable<string> GoldenStrings()
    {
        foreach (string name in new[] { "bert-base-uncased", "bert-base-chinese", "roberta-base" })
        {
            foreach (var variant in Goldens.Load("tokenizer_" + name).GetProperty("variants").EnumerateObject())
            {
                foreach (var s in variant.Value.GetProperty("strings").EnumerateArray()) yield return s.GetProperty("text").GetString()!;
                foreach (var p in variant.Value.GetProperty("pairs").EnumerateArray())
                {
                    yield return p.GetProperty("text").GetString()!;
                    yield return p.GetProperty("text_pair").GetString()!;
                }
            }
        }
        foreach (var (text, _) in TokenizerCaseTests.Read("bert-bge")) yield return text;
        foreach (string s in TrickyStrings) yield return s;
    }

    [Theory]
    [MemberData(nameof(Tokenizers))]
    public void FusedAndGeneralPathsAgree(string folder, bool useFast)
    {
        var tokenizer = AutoTokenizer.FromPretrained(Path.Combine(Fixtures.Root, folder), new TokenizerLoadOptions { UseFast = useFast });
        Assert.True(tokenizer.Pipeline.HasFusedPath);
        // The fused path must really take ordinary text (else the comparison below would be vacuous).
        foreach (string common in new[] { "Hello, World! I've been waiting.", "Café résumé 😀 中文", "[MASK] is here", " <s> x" })
        {
            int word = 0;
            var builder = new EncodingBuilder(8);
            Assert.True(tokenizer.Pipeline.FastPath!.TryEncode(common, 0, common.Length, builder, ref word), common);
            Assert.True(builder.Count > 0);
        }
        int w = 0;
        if (tokenizer.Pipeline.FastPath is BertFastPath)
        {
            Assert.False(tokenizer.Pipeline.FastPath!.TryEncode("e\u0301", 0, 2, new EncodingBuilder(4), ref w), "a combining mark needs the general path");
        }
        var checks = new GoldenChecks($"{folder} fused vs general");
        foreach (string text in GoldenStrings().Distinct())
        {
            AssertSame(tokenizer.Pipeline, text, checks);
        }
        checks.AssertAll();
    }

    [Fact]
    public void ByteLevelWithPrefixSpaceFromTokenizerJsonAgrees()
    {
        // The Rust ByteLevel pre-tokenizer with add_prefix_space: the fused path adds the space per segment.
        string temp = Directory.CreateTempSubdirectory("sharpformers-bl-").FullName;
        try
        {
            var slow = AutoTokenizer.FromPretrained(Fixtures.Vocab("roberta-base"),
                new TokenizerLoadOptions { ConfigOverrides = new System.Text.Json.Nodes.JsonObject { ["add_prefix_space"] = true } });
            slow.SavePretrained(temp);
            var fast = AutoTokenizer.FromPretrained(temp);
            Assert.True(fast.IsFast && fast.Pipeline.HasFusedPath);
            var checks = new GoldenChecks("roberta-base tokenizer.json with add_prefix_space");
            foreach (string text in GoldenStrings().Distinct().Append("<s>x <mask> y</s>")) AssertSame(fast.Pipeline, text, checks);
            checks.AssertAll();
            Assert.Equal(["<s>", "ĠHello", "</s>"], fast.Call("Hello").Tokens(0));
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
        }
    }

    internal static void AssertSame(TokenizerPipeline pipeline, string text, GoldenChecks checks)
    {
        pipeline.UseFastPath = true;
        var fused = pipeline.EncodeSequence(text);
        pipeline.UseFastPath = false;
        var general = pipeline.EncodeSequence(text);
        pipeline.UseFastPath = true;
        string where = JsonSerializer.Serialize(text);
        checks.Equal(general.Ids, fused.Ids, where + " ids");
        checks.Equal(general.Tokens, fused.Tokens, where + " tokens");
        checks.Equal(general.Offsets, fused.Offsets, where + " offsets");
        checks.Equal(general.WordIds, fused.WordIds, where + " word ids");
    }
}
