using System.Text.Json.Nodes;
using Sharpformers.Models.Albert;
using Sharpformers.Models.Configuration;
using Sharpformers.Models.DebertaV2;
using Sharpformers.Models.Electra;
using Sharpformers.Models.Roberta;
using Sharpformers.Models.XlmRoberta;
using Sharpformers.Nn;
using Sharpformers.TestSupport;

namespace Sharpformers.Models.Tests;

/// <summary>Configs of RoBERTa, XLM-RoBERTa, ELECTRA, ALBERT and DeBERTa-v2: every field that changes the math, round trips, and malformed values.</summary>
public sealed class ArchitectureConfigTests
{
    private static JsonObject Json(string model) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Fixtures.Model(model), "config.json")))!.AsObject();

    private static PretrainedConfig Read(string model, Action<JsonObject> edit)
    {
        var json = Json(model);
        edit(json);
        return AutoConfig.FromJson(json, $"{model}/config.json");
    }

    [Fact]
    public void ReadsEveryFieldThatChangesTheMath()
    {
        var roberta = Assert.IsType<RobertaConfig>(AutoConfig.FromPretrained(Fixtures.Model("tiny-roberta")));
        Assert.Equal((961, 32, 2, 4, 37), (roberta.VocabSize, roberta.HiddenSize, roberta.NumHiddenLayers, roberta.NumAttentionHeads, roberta.IntermediateSize));
        Assert.Equal((66, 1, 1, 1e-12), (roberta.MaxPositionEmbeddings, roberta.TypeVocabSize, roberta.PadTokenId!.Value, roberta.LayerNormEps));
        Assert.Equal(64, roberta.MaxSequenceLength);
        Assert.Equal(ActivationFunction.Gelu, roberta.Activation);
        Assert.Equal((0, 2), (roberta.BosTokenId!.Value, roberta.EosTokenId!.Value));

        var xlmr = Assert.IsType<XlmRobertaConfig>(AutoConfig.FromPretrained(Fixtures.Model("tiny-xlm-roberta")));
        Assert.Equal(("xlm-roberta", 802, "entailment"), (xlmr.ModelType, xlmr.VocabSize, xlmr.Id2Label[2]));

        var electra = Assert.IsType<ElectraConfig>(AutoConfig.FromPretrained(Fixtures.Model("tiny-electra")));
        Assert.Equal((24, 32, 2, 0), (electra.EmbeddingSize, electra.HiddenSize, electra.TypeVocabSize, electra.PadTokenId!.Value));
        Assert.Equal(("first", true, "gelu"), (electra.SummaryType, electra.SummaryUseProj, electra.SummaryActivation));

        var albert = Assert.IsType<AlbertConfig>(AutoConfig.FromPretrained(Fixtures.Model("tiny-albert")));
        Assert.Equal((16, 1, 1), (albert.EmbeddingSize, albert.NumHiddenGroups, albert.InnerGroupNum));
        Assert.Equal(ActivationFunction.GeluTanh, albert.Activation); // gelu_new
        Assert.Equal((0.0, 0.1, 2, 3), (albert.HiddenDropoutProb, albert.ClassifierDropoutProb, albert.BosTokenId!.Value, albert.EosTokenId!.Value));

        var deberta = Assert.IsType<DebertaV2Config>(AutoConfig.FromPretrained(Fixtures.Model("tiny-deberta-v2")));
        Assert.True(deberta.RelativeAttention);
        Assert.False(deberta.PositionBiasedInput);
        Assert.Equal(["p2c", "c2p"], deberta.PosAttType);
        Assert.Equal((32, 64, 32, 3), (deberta.PositionBuckets!.Value, deberta.EffectiveMaxRelativePositions, deberta.AttentionSpan, deberta.ScaleFactor));
        Assert.True(deberta.ShareAttentionKey);
        Assert.True(deberta.NormalizesRelativeEmbeddings);
        Assert.False(deberta.HasConvLayer);
        Assert.Equal((0, 1e-7, 32, 32), (deberta.TypeVocabSize, deberta.LayerNormEps, deberta.EffectiveEmbeddingSize, deberta.EffectivePoolerHiddenSize));
        Assert.Equal(ActivationFunction.Gelu, deberta.PoolerActivation);
    }

    [Theory]
    [InlineData("tiny-roberta")]
    [InlineData("tiny-xlm-roberta")]
    [InlineData("tiny-electra")]
    [InlineData("tiny-albert")]
    [InlineData("tiny-deberta-v2")]
    public void RoundTripsConfigJsonByteForByte(string name)
    {
        string original = File.ReadAllText(Path.Combine(Fixtures.Model(name), "config.json"));
        var config = AutoConfig.FromPretrained(Fixtures.Model(name));
        Assert.Equal(original.TrimEnd('\n'), config.ToJsonString().TrimEnd('\n'));
        Assert.Equal(original.TrimEnd('\n'), config.Clone().ToJsonString().TrimEnd('\n'));
    }

    [Fact]
    public void NewConfigsWriteWhatTransformersWrites()
    {
        string albert = new AlbertConfig().ToJsonString();
        Assert.Contains("\"hidden_dropout_prob\": 0,", albert);          // AlbertConfig's default is the int 0
        Assert.Contains("\"classifier_dropout_prob\": 0.1,", albert);
        Assert.Contains("\"hidden_act\": \"gelu_new\"", albert);
        Assert.Contains("\"bos_token_id\": 2", albert);
        string deberta = new DebertaV2Config { HiddenSize = 64, NumAttentionHeads = 4 }.ToJsonString();
        Assert.Contains("\"pooler_dropout\": 0,", deberta);
        Assert.Contains("\"pooler_hidden_size\": 64", deberta);
        Assert.Contains("\"layer_norm_eps\": 1e-07", deberta);
        Assert.Contains("\"pos_att_type\": null", deberta);
        Assert.DoesNotContain("position_buckets", deberta);              // getattr-only fields appear only when set
        Assert.DoesNotContain("share_att_key", deberta);
        string roberta = new RobertaConfig().ToJsonString();
        Assert.Contains("\"pad_token_id\": 1", roberta);
        Assert.Contains("\"vocab_size\": 50265", roberta);
        Assert.Contains("\"model_type\": \"xlm-roberta\"", new XlmRobertaConfig().ToJsonString());
        Assert.Contains("\"vocab_size\": 30522", new XlmRobertaConfig().ToJsonString());
        Assert.Contains("\"embedding_size\": 128", new ElectraConfig().ToJsonString());
    }

    [Fact]
    public void OverridesKeepTheFieldTypes()
    {
        var albert = (AlbertConfig)AutoConfig.FromPretrained(Fixtures.Model("tiny-albert"));
        albert.UpdateFromString("hidden_dropout_prob=0.1,inner_group_num=2");
        Assert.Equal(0.1, albert.HiddenDropoutProb);
        Assert.Equal(2, albert.InnerGroupNum);
        Assert.Contains("\"hidden_dropout_prob\": 0.1,", albert.ToJsonString());
        var deberta = (DebertaV2Config)AutoConfig.FromPretrained(Fixtures.Model("tiny-deberta-v2"), new Dictionary<string, string> { ["position_buckets"] = "16" });
        Assert.Equal(16, deberta.AttentionSpan);
        var ex = Assert.Throws<ArgumentException>(() => deberta.UpdateFromString("share_att_key=sometimes"));
        Assert.Contains("'share_att_key' is a boolean", ex.Message);
    }

    [Fact]
    public void DebertaAcceptsTheOldPipeSeparatedPosAttType()
    {
        var config = (DebertaV2Config)Read("tiny-deberta-v2", j => j["pos_att_type"] = "P2C|c2p");
        Assert.Equal(["p2c", "c2p"], config.PosAttType);
        Assert.Contains("\"pos_att_type\": [\n    \"p2c\",\n    \"c2p\"\n  ]", config.ToJsonString()); // written as transformers stores it
        var none = (DebertaV2Config)Read("tiny-deberta-v2", j => j["pos_att_type"] = null);
        Assert.Equal(1, none.ScaleFactor);
    }

    public static TheoryData<string, string, JsonNode?, string> WrongTypes => new()
    {
        { "tiny-electra", "embedding_size", JsonValue.Create("24"), "field 'embedding_size' must be an integer, got a string \"24\"" },
        { "tiny-albert", "embedding_size", JsonValue.Create(16.5), "field 'embedding_size' must be an integer, got the number 16.5" },
        { "tiny-albert", "num_hidden_groups", JsonValue.Create("1"), "field 'num_hidden_groups' must be an integer, got a string \"1\"" },
        { "tiny-albert", "inner_group_num", JsonValue.Create(true), "field 'inner_group_num' must be an integer, got the boolean true" },
        { "tiny-albert", "classifier_dropout_prob", JsonValue.Create("0.1"), "field 'classifier_dropout_prob' must be a number, got a string \"0.1\"" },
        { "tiny-roberta", "layer_norm_eps", JsonValue.Create("1e-5"), "field 'layer_norm_eps' must be a number, got a string \"1e-5\"" },
        { "tiny-roberta", "type_vocab_size", JsonValue.Create(1.5), "field 'type_vocab_size' must be an integer, got the number 1.5" },
        { "tiny-roberta", "pad_token_id", JsonValue.Create("1"), "field 'pad_token_id' must be an integer, got a string \"1\"" },
        { "tiny-roberta", "classifier_dropout", JsonValue.Create(false), "field 'classifier_dropout' must be a number, got the boolean false" },
        { "tiny-xlm-roberta", "hidden_act", JsonValue.Create(3), "field 'hidden_act' must be a string, got the number 3" },
        { "tiny-electra", "position_embedding_type", JsonValue.Create(0), "field 'position_embedding_type' must be a string, got the number 0" },
        { "tiny-deberta-v2", "relative_attention", JsonValue.Create(1), "field 'relative_attention' must be true or false, got the number 1" },
        { "tiny-deberta-v2", "position_biased_input", JsonValue.Create("false"), "field 'position_biased_input' must be true or false, got a string \"false\"" },
        { "tiny-deberta-v2", "share_att_key", JsonValue.Create("yes"), "field 'share_att_key' must be true or false, got a string \"yes\"" },
        { "tiny-deberta-v2", "position_buckets", JsonValue.Create("32"), "field 'position_buckets' must be an integer, got a string \"32\"" },
        { "tiny-deberta-v2", "max_relative_positions", JsonValue.Create(1.5), "field 'max_relative_positions' must be an integer, got the number 1.5" },
        { "tiny-deberta-v2", "pos_att_type", JsonValue.Create(3), "field 'pos_att_type' must be a list of strings, got the number 3" },
        { "tiny-deberta-v2", "norm_rel_ebd", JsonValue.Create(1), "field 'norm_rel_ebd' must be a string, got the number 1" },
        { "tiny-deberta-v2", "pooler_dropout", JsonValue.Create("0"), "field 'pooler_dropout' must be a number, got a string \"0\"" },
        { "tiny-deberta-v2", "pooler_hidden_size", JsonValue.Create("32"), "field 'pooler_hidden_size' must be an integer, got a string \"32\"" },
        { "tiny-deberta-v2", "conv_kernel_size", JsonNode.Parse("3.0"), "field 'conv_kernel_size' must be an integer, got the number 3.0" },
        { "tiny-deberta-v2", "embedding_size", JsonValue.Create("16"), "field 'embedding_size' must be an integer, got a string \"16\"" },
    };

    [Theory]
    [MemberData(nameof(WrongTypes))]
    public void WrongTypesNameTheFieldAndTheExpectedType(string model, string field, JsonNode? value, string message)
    {
        var ex = Assert.Throws<InvalidDataException>(() => Read(model, j => j[field] = value?.DeepClone()));
        Assert.Contains($"{model}/config.json: {message}", ex.Message);
    }

    public static TheoryData<string, string, JsonNode?, string> InvalidValues => new()
    {
        { "tiny-albert", "inner_group_num", JsonValue.Create(0), "inner_group_num must be at least 1, got 0" },
        { "tiny-albert", "num_hidden_groups", JsonValue.Create(0), "num_hidden_groups must be at least 1, got 0" },
        { "tiny-albert", "hidden_act", JsonValue.Create("gelu_slow"), "hidden_act 'gelu_slow' is not supported (supported: gelu" },
        { "tiny-electra", "embedding_size", JsonValue.Create(0), "embedding_size must be at least 1, got 0" },
        { "tiny-electra", "type_vocab_size", JsonValue.Create(0), "type_vocab_size must be at least 1, got 0" },
        { "tiny-roberta", "pad_token_id", null, "pad_token_id is null, but roberta numbers its positions from pad_token_id + 1" },
        { "tiny-roberta", "max_position_embeddings", JsonValue.Create(2), "max_position_embeddings 2 leaves no position for a token" },
        { "tiny-roberta", "num_attention_heads", JsonValue.Create(5), "hidden_size 32 is not a multiple of num_attention_heads 5" },
        { "tiny-xlm-roberta", "pad_token_id", JsonValue.Create(802), "pad_token_id 802 is outside the vocabulary of 802" },
        { "tiny-deberta-v2", "pos_att_type", new JsonArray("c2p", "p2p"), "pos_att_type holds 'p2p'; expected \"c2p\" and/or \"p2c\"" },
        { "tiny-deberta-v2", "norm_rel_ebd", JsonValue.Create("batch_norm"), "norm_rel_ebd 'batch_norm' is not supported" },
        { "tiny-deberta-v2", "pooler_hidden_size", JsonValue.Create(16), "pooler_hidden_size 16 differs from hidden_size 32" },
        { "tiny-deberta-v2", "pooler_hidden_act", JsonValue.Create("swishy"), "pooler_hidden_act 'swishy' is not supported" },
        { "tiny-deberta-v2", "conv_kernel_size", JsonValue.Create(4), "conv_kernel_size 4 must be odd" },
        { "tiny-deberta-v2", "position_buckets", JsonValue.Create(128), "position_buckets 128 needs max_relative_positions (or max_position_embeddings) above 65, got 64" },
        { "tiny-deberta-v2", "type_vocab_size", JsonValue.Create(-1), "type_vocab_size must be at least 0, got -1" },
    };

    [Theory]
    [MemberData(nameof(InvalidValues))]
    public void InvalidValuesSayWhatIsWrong(string model, string field, JsonNode? value, string message)
    {
        var ex = Assert.Throws<InvalidDataException>(() => Read(model, j => j[field] = value?.DeepClone()));
        Assert.StartsWith($"{model}/config.json: ", ex.Message);
        Assert.Contains(message, ex.Message);
    }

    [Theory]
    [InlineData("tiny-roberta", "position_embedding_type", "relative_key")]
    [InlineData("tiny-electra", "position_embedding_type", "relative_key_query")]
    [InlineData("tiny-albert", "position_embedding_type", "relative_key")]
    public void RelativePositionEmbeddingsAreRejected(string model, string field, string value)
    {
        var ex = Assert.Throws<NotSupportedException>(() => Read(model, j => j[field] = value));
        Assert.Contains($"position_embedding_type '{value}' is not supported (supported: absolute)", ex.Message);
    }

    [Fact]
    public void UnsupportedShapesAreNamed()
    {
        var ex = Assert.Throws<NotSupportedException>(() => Read("tiny-deberta-v2", j => j["attention_head_size"] = 16));
        Assert.Contains("attention_head_size 16 differs from hidden_size / num_attention_heads = 8", ex.Message);
        var decoder = Assert.Throws<InvalidDataException>(() => Read("tiny-roberta", j => j["is_decoder"] = true));
        Assert.Contains("field 'is_decoder' is true", decoder.Message);
        var missing = Assert.Throws<InvalidDataException>(() => Read("tiny-albert", j => j.Remove("intermediate_size")));
        Assert.Equal("tiny-albert/config.json: required field 'intermediate_size' (an integer) is missing.", missing.Message);
    }
}
