using System.Text.Json.Nodes;
using Sharpformers.TestSupport;

namespace Sharpformers.Tokenizers.Tests;

/// <summary>Bad files get an exception whose message names the file and says what is wrong.</summary>
public sealed class MalformedInputTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("sharpformers-bad-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private void Write(string name, string text) => File.WriteAllText(Path.Combine(folder, name), text);

    private void Write(string name, byte[] bytes) => File.WriteAllBytes(Path.Combine(folder, name), bytes);

    private T Fails<T>(string expectedMessagePart) where T : Exception
    {
        var e = Assert.ThrowsAny<T>(() => AutoTokenizer.FromPretrained(folder));
        Assert.Contains(expectedMessagePart, e.Message);
        return (T)e;
    }

    /// <summary>A valid tokenizer.json (bert-base-uncased's) to break in one place.</summary>
    private static JsonObject GoodTokenizerJson() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Fixtures.Vocab("bert-base-uncased"), "tokenizer.json")))!.AsObject();

    [Fact]
    public void MissingVocabularyFile()
    {
        Write("tokenizer_config.json", "{\"tokenizer_class\": \"BertTokenizer\"}");
        var e = Fails<FileNotFoundException>("BertTokenizer needs vocab.txt in " + folder);
        Assert.EndsWith("vocab.txt", e.FileName);
    }

    [Fact]
    public void MissingMergesFile()
    {
        Write("vocab.json", "{\"<s>\": 0, \"a\": 1}");
        Write("tokenizer_config.json", "{\"tokenizer_class\": \"RobertaTokenizer\"}");
        Fails<FileNotFoundException>("merges file not found: " + Path.Combine(folder, "merges.txt"));
    }

    [Fact]
    public void FolderWithNothingRecognizable()
    {
        Write("readme.txt", "hello");
        Fails<FileNotFoundException>($"cannot tell which tokenizer {folder} holds");
    }

    [Fact]
    public void NotAFolder()
    {
        string missing = Path.Combine(folder, "missing");
        var e = Assert.Throws<DirectoryNotFoundException>(() => AutoTokenizer.FromPretrained(missing));
        Assert.Equal(
            $"'{missing}' is neither a model folder on disk nor a valid Hub repo id ('name' or 'org/name'). Check the path, or give the repository's id.",
            e.Message);
    }

    [Fact]
    public void UnsupportedTokenizerClassWithoutTokenizerJson()
    {
        Write("tokenizer_config.json", "{\"tokenizer_class\": \"LlamaTokenizer\"}");
        Write("vocab.txt", "a\n");
        Fails<NotSupportedException>("tokenizer class 'LlamaTokenizer' has no tokenizer.json here");
    }

    [Fact]
    public void CorruptTokenizerJson()
    {
        Write("tokenizer.json", "{\"version\": \"1.0\", \"model\": {\"type\": \"WordPiece\", ");
        Fails<InvalidDataException>("tokenizer.json: not valid JSON");
    }

    [Fact]
    public void TokenizerJsonWithoutModel()
    {
        var json = GoodTokenizerJson();
        json.Remove("model");
        Write("tokenizer.json", json.ToJsonString());
        Fails<InvalidDataException>("tokenizer.json: tokenizer is missing 'model'");
    }

    [Fact]
    public void TokenizerJsonWithWrongTypes()
    {
        var json = GoodTokenizerJson();
        json["model"]!["vocab"]!["hello"] = "7592";
        Write("tokenizer.json", json.ToJsonString());
        Fails<InvalidDataException>("tokenizer.json: model.vocab[\"hello\"] must be an integer, got a string (\"7592\")");
    }

    [Fact]
    public void TokenizerJsonWithAWrongFlagType()
    {
        var json = GoodTokenizerJson();
        json["normalizer"]!["lowercase"] = "yes";
        Write("tokenizer.json", json.ToJsonString());
        Fails<InvalidDataException>("tokenizer.json: normalizer: 'lowercase' must be true or false, got a string");
    }

    [Fact]
    public void UnknownComponentType()
    {
        var json = GoodTokenizerJson();
        json["pre_tokenizer"] = new JsonObject { ["type"] = "Sequence", ["pretokenizers"] = new JsonArray(new JsonObject { ["type"] = "FancySplit" }) };
        Write("tokenizer.json", json.ToJsonString());
        Fails<InvalidDataException>("tokenizer.json: pre_tokenizer.pretokenizers[0] has unknown type \"FancySplit\" (supported: BertPreTokenizer");
    }

    [Fact]
    public void UnknownModelType()
    {
        var json = GoodTokenizerJson();
        json["model"]!["type"] = "Wordpiece2";
        Write("tokenizer.json", json.ToJsonString());
        Fails<InvalidDataException>("tokenizer.json: model has unknown type \"Wordpiece2\" (supported: WordPiece, BPE, Unigram, WordLevel)");
    }

    [Fact]
    public void TemplateWithAnUnknownSpecialToken()
    {
        var json = GoodTokenizerJson();
        json["post_processor"]!["special_tokens"]!.AsObject().Remove("[SEP]");
        Write("tokenizer.json", json.ToJsonString());
        Fails<InvalidDataException>("tokenizer.json: post_processor TemplateProcessing: the template uses '[SEP]', which is not among its special_tokens");
    }

    [Fact]
    public void BadRegexInASplitPattern()
    {
        var json = GoodTokenizerJson();
        json["pre_tokenizer"] = new JsonObject
        {
            ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = "([a-z" }, ["behavior"] = "Isolated", ["invert"] = false,
        };
        Write("tokenizer.json", json.ToJsonString());
        Fails<InvalidDataException>("tokenizer.json: pre_tokenizer.pattern invalid regular expression '([a-z'");
    }

    [Fact]
    public void WrongTypeInTokenizerConfig()
    {
        File.Copy(Path.Combine(Fixtures.Vocab("bert-base-uncased"), "vocab.txt"), Path.Combine(folder, "vocab.txt"));
        Write("tokenizer_config.json", "{\"model_max_length\": \"512\"}");
        Fails<InvalidDataException>("tokenizer_config.json: 'model_max_length' must be an integer, got a string (\"512\")");
        Write("tokenizer_config.json", "{\"do_lower_case\": 1}");
        Fails<InvalidDataException>("tokenizer_config.json: 'do_lower_case' must be true or false, got a number");
        Write("tokenizer_config.json", "{\"padding_side\": \"middle\"}");
        Fails<InvalidDataException>("tokenizer_config.json: 'padding_side' must be \"right\" or \"left\", got \"middle\"");
        Write("tokenizer_config.json", "{\"added_tokens_decoder\": {\"x\": {\"content\": \"[X]\"}}}");
        Fails<InvalidDataException>("tokenizer_config.json: added_tokens_decoder key 'x' must be a token id");
        Write("tokenizer_config.json", "[1, 2]");
        Fails<InvalidDataException>("tokenizer_config.json: expected a JSON object at the top level, got an array");
    }

    [Fact]
    public void EmptyOrInvalidVocabTxt()
    {
        Write("vocab.txt", "");
        Fails<InvalidDataException>("vocab.txt: the vocabulary is empty");
        Write("vocab.txt", [0x61, 0x0A, 0xFF, 0x0A]);
        Fails<InvalidDataException>("vocab.txt: not valid UTF-8");
    }

    [Fact]
    public void MalformedVocabJsonAndMerges()
    {
        Write("tokenizer_config.json", "{\"tokenizer_class\": \"RobertaTokenizer\"}");
        Write("vocab.json", "[\"a\"]");
        Write("merges.txt", "#version: 0.2\na b\n");
        Fails<InvalidDataException>("vocab.json: expected a JSON object at the top level, got an array");
        Write("vocab.json", "{\"<s>\": 0, \"</s>\": 1, \"<unk>\": 2, \"<pad>\": 3, \"<mask>\": 4, \"a\": 5, \"b\": 6}");
        Write("merges.txt", "#version: 0.2\na b c\n");
        Fails<InvalidDataException>("merges.txt: line 2 should hold two tokens separated by a space, got 'a b c'");
        Write("merges.txt", "#version: 0.2\na b\n");
        Fails<InvalidDataException>("merges.txt: merge 1 ('a b') makes 'ab', which is not in the vocabulary");
    }

    [Fact]
    public void TruncatedSentencePieceModel()
    {
        byte[] model = File.ReadAllBytes(Path.Combine(Fixtures.Model("tiny-albert"), "spiece.model"));
        File.Copy(Path.Combine(Fixtures.Model("tiny-albert"), "tokenizer_config.json"), Path.Combine(folder, "tokenizer_config.json"));
        Write("spiece.model", model[..1000]);
        var e = Fails<InvalidDataException>("spiece.model: not a valid SentencePiece model: ");
        Assert.Contains("(truncated?) at byte", e.Message);
        Write("spiece.model", [0x0A, 0x02, 0x0A]);
        Fails<InvalidDataException>("spiece.model: not a valid SentencePiece model: ");
        Write("spiece.model", "this is not a protobuf"u8.ToArray());
        Fails<InvalidDataException>("spiece.model: not a valid SentencePiece model: ");
    }

    [Fact]
    public void BadPrecompiledCharsMap()
    {
        var json = GoodTokenizerJson();
        json["normalizer"] = new JsonObject { ["type"] = "Precompiled", ["precompiled_charsmap"] = "not base64!!" };
        Write("tokenizer.json", json.ToJsonString());
        Fails<InvalidDataException>("tokenizer.json: normalizer.precompiled_charsmap must be base64");
        json["normalizer"] = new JsonObject { ["type"] = "Precompiled", ["precompiled_charsmap"] = Convert.ToBase64String([0xFF, 0xFF, 0, 0, 1, 2]) };
        Write("tokenizer.json", json.ToJsonString());
        Fails<InvalidDataException>("tokenizer.json: normalizer: precompiled_charsmap declares a trie of 65535 bytes but holds 2 bytes");
    }

    [Fact]
    public void BadArguments()
    {
        var t = AutoTokenizer.FromPretrained(Fixtures.Vocab("bert-base-uncased"));
        Assert.Throws<ArgumentException>(() => t.Call(["a", "b"], ["only one pair"]));
        Assert.Throws<ArgumentNullException>(() => t.Call((string)null!));
        Assert.Throws<ArgumentException>(() => t.Call("a", maxLength: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.ConvertIdToToken(999_999));
    }
}
