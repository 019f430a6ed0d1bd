using System.Text.Json.Nodes;
using Sharpformers.Models.Bert;
using Sharpformers.Models.Configuration;
using Sharpformers.Models.DistilBert;
using Sharpformers.TestSupport;
using Sharpformers.Utils;

namespace Sharpformers.Models.Tests;

public sealed class ConfigTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("config-tests-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private string WriteConfig(string json)
    {
        File.WriteAllText(Path.Combine(dir, "config.json"), json);
        return dir;
    }

    private static string TinyBertJson() => File.ReadAllText(Path.Combine(Fixtures.Model("tiny-bert"), "config.json"));

    [Fact]
    public void ReadsEveryFieldThatChangesTheMath()
    {
        var config = Assert.IsType<BertConfig>(AutoConfig.FromPretrained(Fixtures.Model("tiny-bert")));
        Assert.Equal(1028, config.VocabSize);
        Assert.Equal(32, config.HiddenSize);
        Assert.Equal(2, config.NumHiddenLayers);
        Assert.Equal(4, config.NumAttentionHeads);
        Assert.Equal(37, config.IntermediateSize);
        Assert.Equal("gelu", config.HiddenAct);
        Assert.Equal(64, config.MaxPositionEmbeddings);
        Assert.Equal(2, config.TypeVocabSize);
        Assert.Equal(1e-12, config.LayerNormEps);
        Assert.Equal(0.2, config.InitializerRange);
        Assert.Equal(0, config.PadTokenId);
        Assert.Null(config.ClassifierDropout);
        Assert.Equal(3, config.NumLabels);
        Assert.Equal("neutral", config.Id2Label[1]);
        Assert.Equal(2, config.Label2Id["positive"]);
        Assert.Equal(["BertForSequenceClassification"], config.Architectures);
        Assert.Null(config.ProblemType);

        var distil = Assert.IsType<DistilBertConfig>(AutoConfig.FromPretrained(Fixtures.Model("tiny-distilbert")));
        Assert.Equal(32, distil.Dim);
        Assert.Equal(32, distil.HiddenSize);
        Assert.Equal(37, distil.HiddenDim);
        Assert.Equal(2, distil.NLayers);
        Assert.Equal(4, distil.NHeads);
        Assert.Equal("gelu", distil.Activation);
        Assert.False(distil.SinusoidalPosEmbds);
        Assert.Equal(0.2, distil.SeqClassifDropout);
        Assert.Equal("POSITIVE", distil.Id2Label[1]);
    }

    [Theory]
    [InlineData("tiny-bert")]
    [InlineData("tiny-distilbert")]
    public void RoundTripsConfigJsonByteForByte(string name)
    {
        string original = File.ReadAllText(Path.Combine(Fixtures.Model(name), "config.json"));
        var config = AutoConfig.FromPretrained(Fixtures.Model(name));
        Assert.Equal(original.TrimEnd('\n'), config.ToJsonString().TrimEnd('\n'));
    }

    [Fact]
    public void UnknownKeysArePreserved()
    {
        var json = JsonNode.Parse(TinyBertJson())!.AsObject();
        json["my_custom_field"] = new JsonObject { ["nested"] = 1.5 };
        var config = AutoConfig.FromJson(json);
        Assert.True(config.ExtraProperties.ContainsKey("my_custom_field"));
        Assert.Contains("\"my_custom_field\": {\n    \"nested\": 1.5\n  }", config.ToJsonString());
    }

    [Fact]
    public void MissingConfigJsonIsAClearError()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => AutoConfig.FromPretrained(dir));
        Assert.Contains("has no config.json", ex.Message);
        // An absolute path is never taken for a Hub repo id: the error says it was neither.
        string missing = Path.Combine(dir, "nope");
        var notFound = Assert.Throws<DirectoryNotFoundException>(() => AutoModelForSequenceClassification.FromPretrained(missing));
        Assert.Equal(
            $"'{missing}' is neither a model folder on disk nor a valid Hub repo id ('name' or 'org/name'). Check the path, or give the repository's id.",
            notFound.Message);
    }

    [Fact]
    public void WrongTypesNameTheFieldAndTheExpectedType()
    {
        var ex = Assert.Throws<InvalidDataException>(() => AutoConfig.FromPretrained(WriteConfig(TinyBertJson().Replace("\"hidden_size\": 32", "\"hidden_size\": \"32\""))));
        Assert.Contains("config.json: field 'hidden_size' must be an integer, got a string \"32\"", ex.Message);
        ex = Assert.Throws<InvalidDataException>(() => AutoConfig.FromPretrained(WriteConfig(TinyBertJson().Replace("\"layer_norm_eps\": 1e-12", "\"layer_norm_eps\": true"))));
        Assert.Contains("field 'layer_norm_eps' must be a number, got the boolean true", ex.Message);
        ex = Assert.Throws<InvalidDataException>(() => AutoConfig.FromPretrained(WriteConfig(TinyBertJson().Replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 2.5"))));
        Assert.Contains("field 'num_hidden_layers' must be an integer, got the number 2.5", ex.Message);
        ex = Assert.Throws<InvalidDataException>(() => AutoConfig.FromPretrained(WriteConfig(TinyBertJson().Replace("\"0\": \"negative\"", "\"zero\": \"negative\""))));
        Assert.Contains("field 'id2label' must have integer keys", ex.Message);
        ex = Assert.Throws<InvalidDataException>(() => AutoConfig.FromPretrained(WriteConfig(TinyBertJson().Replace("\"hidden_act\": \"gelu\"", "\"hidden_act\": \"swishy\""))));
        Assert.Contains("hidden_act 'swishy' is not supported (supported: gelu", ex.Message);
        ex = Assert.Throws<InvalidDataException>(() => AutoConfig.FromPretrained(WriteConfig(TinyBertJson().Replace("\"num_attention_heads\": 4", "\"num_attention_heads\": 5"))));
        Assert.Contains("hidden_size 32 is not a multiple of num_attention_heads 5", ex.Message);
        ex = Assert.Throws<InvalidDataException>(() => AutoConfig.FromPretrained(WriteConfig("{\"model_type\": \"bert\", ")));
        Assert.Contains("is not valid JSON", ex.Message);
    }

    [Fact]
    public void MissingRequiredFieldIsNamed()
    {
        var json = JsonNode.Parse(TinyBertJson())!.AsObject();
        json.Remove("vocab_size");
        var ex = Assert.Throws<InvalidDataException>(() => AutoConfig.FromJson(json, "some/config.json"));
        Assert.Equal("some/config.json: required field 'vocab_size' (an integer) is missing.", ex.Message);
        json = JsonNode.Parse(TinyBertJson())!.AsObject();
        json.Remove("model_type");
        ex = Assert.Throws<InvalidDataException>(() => AutoConfig.FromJson(json, "some/config.json"));
        Assert.Contains("required field 'model_type' (a string) is missing", ex.Message);
    }

    [Fact]
    public void UnknownModelTypeListsTheSupportedOnes()
    {
        var ex = Assert.Throws<NotSupportedException>(() => AutoConfig.FromPretrained(WriteConfig("{\"model_type\": \"gpt2\"}")));
        Assert.Contains("model_type 'gpt2' is not supported (supported: albert, bert, deberta-v2, distilbert, electra, roberta, xlm-roberta)", ex.Message);
        Assert.Contains("config.json", ex.Message);
    }

    [Fact]
    public void NumLabelsFollowsTransformers()
    {
        var config = new BertConfig();
        Assert.Equal(2, config.NumLabels);
        Assert.Equal("LABEL_1", config.Id2Label[1]);
        config.NumLabels = 3;
        Assert.Equal(["LABEL_0", "LABEL_1", "LABEL_2"], config.Id2Label.OrderBy(p => p.Key).Select(p => p.Value));
        Assert.Equal(2, config.Label2Id["LABEL_2"]);
        config.Id2Label = new Dictionary<int, string> { [0] = "neg", [1] = "pos" };
        Assert.Equal(2, config.NumLabels);
        Assert.Equal(1, config.Label2Id["pos"]);
        Assert.Throws<ArgumentException>(() => config.Id2Label = new Dictionary<int, string> { [0] = "a", [2] = "b" });
        Assert.Throws<ArgumentException>(() => config.ProblemType = "ranking");
    }

    [Fact]
    public void OverridesFromStringsUseTheExistingTypes()
    {
        var config = (BertConfig)AutoConfig.FromPretrained(Fixtures.Model("tiny-bert"));
        config.UpdateFromString("hidden_dropout_prob=0,attention_probs_dropout_prob=0.0,classifier_dropout=0,use_cache=false,output_attentions=true");
        Assert.Equal(0.0, config.HiddenDropoutProb);
        Assert.Equal(0.0, config.ClassifierDropout);
        Assert.False(config.UseCache);
        Assert.True(config.OutputAttentions);
        config.Update(new Dictionary<string, string> { ["num_labels"] = "5" });
        Assert.Equal(5, config.NumLabels);
        var ex = Assert.Throws<ArgumentException>(() => config.UpdateFromString("hiden_size=3"));
        Assert.Contains("'hiden_size' is not a field of this bert config", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => config.UpdateFromString("use_cache=maybe"));
        Assert.Contains("'use_cache' is a boolean", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => config.UpdateFromString("hidden_size=abc"));
        Assert.Contains("'hidden_size' is a number", ex.Message);
        var invalid = Assert.Throws<InvalidDataException>(() => config.UpdateFromString("hidden_size=3.5"));
        Assert.Contains("field 'hidden_size' must be an integer, got the number 3.5", invalid.Message);
    }

    [Fact]
    public void NewConfigsWriteWhatTransformersWrites()
    {
        var config = new DistilBertConfig { Dim = 64, NHeads = 4, HiddenDim = 100, NLayers = 1, VocabSize = 50, SinusoidalPosEmbds = true };
        string text = config.ToJsonString();
        Assert.Contains("\"dim\": 64", text);
        Assert.Contains("\"dropout\": 0.1", text);
        Assert.Contains("\"sinusoidal_pos_embds\": true", text);
        Assert.Contains("\"model_type\": \"distilbert\"", text);
        Assert.DoesNotContain("id2label", text); // default labels are left out, as transformers' to_diff_dict does
        Assert.Equal("1e-12", PythonJson.FormatFloat(1e-12));
        Assert.Equal("2e-05", PythonJson.FormatFloat(2e-5));
        Assert.Equal("0.0", PythonJson.FormatFloat(0));
        Assert.Equal("\"caf\\u00e9\"", PythonJson.Serialize(JsonValue.Create("café")));
    }
}
