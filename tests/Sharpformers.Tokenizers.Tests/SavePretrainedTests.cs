using System.Text.Json;
using System.Text.Json.Nodes;
using Sharpformers.TestSupport;

namespace Sharpformers.Tokenizers.Tests;

/// <summary>SavePretrained writes files that load back into a tokenizer giving the same ids.</summary>
public sealed class SavePretrainedTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("sharpformers-save-").FullName;

    public void Dispose() => Directory.Delete(temp, recursive: true);

    public static TheoryData<string, bool> Folders() => new()
    {
        { "vocab/bert-base-uncased", false },
        { "vocab/bert-base-uncased", true },
        { "vocab/bert-base-chinese", false },
        { "vocab/roberta-base", false },
        { "vocab/gpt2", false },
        { "models/tiny-bert", false },
        { "models/tiny-distilbert", false },
        { "models/tiny-roberta", false },
        { "models/tiny-albert", false },
        { "models/tiny-xlm-roberta", false },
        { "models/tiny-deberta-v2", false },
    };

    [Theory]
    [MemberData(nameof(Folders))]
    public void SavedFolderLoadsBackWithTheSameIds(string folder, bool useFast)
    {
        var original = AutoTokenizer.FromPretrained(Path.Combine(Fixtures.Root, folder), new TokenizerLoadOptions { UseFast = useFast });
        var written = original.SavePretrained(temp);
        Assert.Contains(written, p => Path.GetFileName(p) == "tokenizer_config.json");
        Assert.Contains(written, p => Path.GetFileName(p) == "special_tokens_map.json");
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(temp, "tokenizer_config.json")))!.AsObject();
        Assert.Equal(original.TokenizerClass, config["tokenizer_class"]!.GetValue<string>());

        // Reloaded from the vocabulary files (Python semantics) the ids must be identical on everything.
        var slow = AutoTokenizer.FromPretrained(temp, new TokenizerLoadOptions { UseFast = false });
        var checks = new GoldenChecks($"{folder} saved and reloaded");
        var texts = FastPathTests.GoldenStrings().Distinct().ToList();
        foreach (string text in texts)
        {
            checks.Equal(original.Encode(text), slow.Encode(text), JsonSerializer.Serialize(text) + " (vocabulary files)");
        }
        checks.AssertAll();
        Assert.Equal(original.ModelMaxLength, slow.ModelMaxLength);
        Assert.Equal(original.AllSpecialTokens, slow.AllSpecialTokens);
        Assert.Equal(original.GetVocab().Count, slow.GetVocab().Count);
    }

    [Theory]
    [InlineData("vocab/bert-base-uncased")]
    [InlineData("vocab/bert-base-chinese")]
    [InlineData("vocab/roberta-base")]
    [InlineData("models/tiny-bert")]
    [InlineData("models/tiny-roberta")]
    public void ConvertedTokenizerJsonMatchesTheVocabularyFiles(string folder)
    {
        // The tokenizer.json written for a vocabulary-file tokenizer is transformers' conversion of it;
        // for WordPiece and byte-level BPE the fast pipeline agrees with the Python one on all test strings.
        var original = AutoTokenizer.FromPretrained(Path.Combine(Fixtures.Root, folder), new TokenizerLoadOptions { UseFast = false });
        original.SavePretrained(temp);
        Assert.True(File.Exists(Path.Combine(temp, "tokenizer.json")));
        var fast = AutoTokenizer.FromPretrained(temp);
        Assert.True(fast.IsFast);
        var checks = new GoldenChecks($"{folder} converted tokenizer.json");
        foreach (string text in FastPathTests.GoldenStrings().Distinct())
        {
            checks.Equal(original.Encode(text), fast.Encode(text), JsonSerializer.Serialize(text));
            checks.Equal(original.Encode(text, "and a pair"), fast.Encode(text, "and a pair"), JsonSerializer.Serialize(text) + " + pair");
        }
        checks.AssertAll();
    }

    [Theory]
    [InlineData("tiny-albert")]
    [InlineData("tiny-deberta-v2")]
    public void ConvertedSentencePieceTokenizerJsonMatchesOnOrdinaryText(string model)
    {
        // transformers' converted SentencePiece tokenizers differ from the Python ones on corner cases (text that
        // is only whitespace, a space before a special token becoming "▁", combining marks the charsmap folds per
        // grapheme); on ordinary text they agree.
        var original = AutoTokenizer.FromPretrained(Fixtures.Model(model));
        original.SavePretrained(temp);
        var fast = AutoTokenizer.FromPretrained(temp);
        Assert.True(fast.IsFast);
        var checks = new GoldenChecks($"{model} converted tokenizer.json");
        foreach (string text in Goldens.Load(model).GetProperty("texts").Strings())
        {
            if (text.Contains("[CLS]", StringComparison.Ordinal)) continue;
            checks.Equal(original.Encode(text), fast.Encode(text), JsonSerializer.Serialize(text));
        }
        checks.AssertAll();
        Assert.Equal([original.ClsTokenId!.Value, original.SepTokenId!.Value], fast.Encode(""));
    }

    [Fact]
    public void SavingIntoAModelFolderKeepsItsOtherFiles()
    {
        File.WriteAllText(Path.Combine(temp, "config.json"), "{\"model_type\": \"bert\"}");
        AutoTokenizer.FromPretrained(Fixtures.Model("tiny-bert")).SavePretrained(temp);
        Assert.Equal("{\"model_type\": \"bert\"}", File.ReadAllText(Path.Combine(temp, "config.json")));
        Assert.Empty(Directory.GetFiles(temp, "*.tmp*"));
    }
}
