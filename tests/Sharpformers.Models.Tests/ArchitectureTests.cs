using System.Text.Json.Nodes;
using Sharpformers.Models.Albert;
using Sharpformers.Models.Configuration;
using Sharpformers.Models.Electra;
using Sharpformers.Models.Roberta;
using Sharpformers.Models.XlmRoberta;
using Sharpformers.Tensors;
using Sharpformers.TestSupport;

namespace Sharpformers.Models.Tests;

/// <summary>RoBERTa, XLM-RoBERTa, ELECTRA and ALBERT behaviour the goldens do not pin down on their own.</summary>
public sealed class ArchitectureTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("architecture-tests-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static JsonObject ConfigJson(string model) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Fixtures.Model(model), "config.json")))!.AsObject();

    [Fact]
    public void RobertaPositionIdsFollowThePaddingAndExplicitOnesWin()
    {
        // Two sequences of 4: padding (id 1) keeps position 1, the others count on from 2, even after a pad.
        Assert.Equal([2, 3, 4, 1, 2, 1, 3, 4], RobertaModel.CreatePositionIdsFromInputIds([0, 5, 6, 1, 0, 1, 2, 9], seq: 4, paddingIdx: 1));

        using var model = AutoModelForSequenceClassification.FromPretrained(Fixtures.Model("tiny-roberta"));
        var ids = IntTensor.FromRows([[0, 77, 43, 295, 2]]);
        var implicitPositions = model.Forward(new ModelInputs(ids)).Logits.ToArray();
        var same = model.Forward(new ModelInputs(ids) { PositionIds = IntTensor.FromRows([[2, 3, 4, 5, 6]]) }).Logits.ToArray();
        var shifted = model.Forward(new ModelInputs(ids) { PositionIds = IntTensor.FromRows([[0, 1, 2, 3, 4]]) }).Logits.ToArray();
        Assert.Equal(implicitPositions, same);
        Assert.NotEqual(implicitPositions, shifted);
    }

    [Fact]
    public void RobertaLengthLimitLeavesRoomForThePaddingOffset()
    {
        using var model = AutoModelForSequenceClassification.FromPretrained(Fixtures.Model("tiny-roberta"));
        Assert.Equal(64, ((RobertaConfig)model.Config).MaxSequenceLength);
        Assert.Equal([1, 2], model.Forward(IntTensor.FromRows([Enumerable.Repeat(5, 64).ToArray()])).Logits.Shape);
        var ex = Assert.Throws<ArgumentException>(() => model.Forward(IntTensor.FromRows([Enumerable.Repeat(5, 65).ToArray()])));
        Assert.Contains("The sequence has 65 tokens but the model has room for 64 tokens (max_position_embeddings = 66 in config.json", ex.Message);
        Assert.Contains("truncation=True", ex.Message);
    }

    [Fact]
    public void RobertaBaseModelHasAPoolerUnlessAskedNotTo()
    {
        var logged = new List<string>();
        using var withPooler = AutoModel.FromPretrained(Fixtures.Model("tiny-roberta"), new FromPretrainedOptions { Log = logged.Add, Seed = 3 });
        Assert.IsType<RobertaModel>(withPooler);
        // Named as the checkpoint names them (with its "roberta." prefix), as transformers reports them.
        Assert.Equal(["roberta.pooler.dense.bias", "roberta.pooler.dense.weight"], withPooler.LoadReport!.MissingKeys);
        Assert.Contains("Some weights of RobertaModel were not initialized", Assert.Single(logged));
        var ids = IntTensor.FromRows([[0, 77, 43, 2]]);
        var output = withPooler.Forward(ids);
        Assert.Equal([1, 32], output.PoolerOutput!.Shape);
        Assert.All(output.PoolerOutput.ToArray(), v => Assert.InRange(v, -1f, 1f)); // tanh

        using var without = AutoModel.FromPretrained(Fixtures.Model("tiny-roberta"), new FromPretrainedOptions { AddPoolingLayer = false, Log = logged.Add });
        Assert.Empty(without.LoadReport!.MissingKeys);
        Assert.Equal(["classifier.dense.bias", "classifier.dense.weight", "classifier.out_proj.bias", "classifier.out_proj.weight"], without.LoadReport.UnexpectedKeys);
        Assert.Null(without.Forward(ids).PoolerOutput);
        Assert.Equal(output.LastHiddenState.ToArray(), without.Forward(ids).LastHiddenState.ToArray());

        using var direct = RobertaModel.FromPretrained(Fixtures.Model("tiny-roberta"), new FromPretrainedOptions { AddPoolingLayer = false, Log = logged.Add });
        Assert.Null(direct.Pooler);
    }

    [Fact]
    public void XlmRobertaKeepsItsOwnNamesAndRobertaCheckpointNames()
    {
        using var model = AutoModelForSequenceClassification.FromPretrained(Fixtures.Model("tiny-xlm-roberta"));
        var typed = Assert.IsType<XlmRobertaForSequenceClassification>(model);
        Assert.Equal("XLMRobertaForSequenceClassification", model.ClassName);
        Assert.Equal("XLMRobertaModel", typed.Roberta.ClassName);
        Assert.Equal("xlm-roberta", typed.Config.ModelType);
        Assert.StartsWith("roberta.", model.Parameters[0].Name, StringComparison.Ordinal);
        string folder = Path.Combine(dir, "xlmr");
        model.SavePretrained(folder);
        var saved = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "config.json")))!.AsObject();
        Assert.Equal("XLMRobertaForSequenceClassification", saved["architectures"]![0]!.GetValue<string>());
        Assert.Equal("xlm-roberta", saved["model_type"]!.GetValue<string>());
        // The concrete classes check the model type, as BertModel does.
        var ex = Assert.Throws<InvalidDataException>(() => RobertaForSequenceClassification.FromPretrained(Fixtures.Model("tiny-xlm-roberta")));
        Assert.Contains("model_type is 'xlm-roberta', but RobertaForSequenceClassification needs 'roberta'", ex.Message);
        using var concrete = XlmRobertaForSequenceClassification.FromPretrained(Fixtures.Model("tiny-xlm-roberta"));
        Assert.True(concrete.LoadReport!.IsExactMatch);
    }

    [Fact]
    public void ElectraProjectsEmbeddingsOnlyWhenNarrower()
    {
        using var tiny = AutoModel.FromPretrained(Fixtures.Model("tiny-electra"));
        var electra = Assert.IsType<ElectraModel>(tiny);
        Assert.Equal([32, 24], electra.EmbeddingsProject!.Weight.Shape);
        Assert.Equal([1028, 24], electra.Embeddings.WordEmbeddings.Weight.Shape);

        var json = ConfigJson("tiny-electra");
        json["embedding_size"] = 32;
        using var square = ElectraForSequenceClassification.FromConfig((ElectraConfig)AutoConfig.FromJson(json), seed: 2);
        Assert.DoesNotContain(square.Parameters, p => p.Name.Contains("embeddings_project", StringComparison.Ordinal));
        var output = square.Forward(IntTensor.FromRows([[7, 97, 16, 8]]), outputHiddenStates: true);
        Assert.Equal([1, 4, 32], output.HiddenStates![0].Shape);
    }

    [Fact]
    public void AlbertGroupsShareWeightsAcrossLayers()
    {
        var json = ConfigJson("tiny-albert");
        json["num_hidden_layers"] = 6;
        json["num_hidden_groups"] = 2;
        json["inner_group_num"] = 2;
        var config = (AlbertConfig)AutoConfig.FromJson(json);
        Assert.Equal([0, 0, 0, 1, 1, 1], Enumerable.Range(0, 6).Select(config.GroupOfLayer));
        using var model = AlbertModel.FromConfig(config, seed: 1);
        Assert.Equal(12, model.LayerSchedule.Count);
        Assert.Same(model.LayerGroups[0][1], model.LayerSchedule[3]);
        Assert.Same(model.LayerGroups[1][0], model.LayerSchedule[6]);
        // Two groups of two layers: 4 sets of layer weights, whatever num_hidden_layers is.
        Assert.Equal(4, model.Parameters.Count(p => p.Name.EndsWith("attention.query.weight", StringComparison.Ordinal)));
        Assert.Contains(model.Parameters, p => p.Name == "encoder.albert_layer_groups.1.albert_layers.1.ffn_output.weight");

        var output = model.Forward(IntTensor.FromRows([[2, 96, 386, 3]]), outputAttentions: true, outputHiddenStates: true);
        Assert.Equal(7, output.HiddenStates!.Count);   // mapped embeddings + one per layer pass (not per inner layer)
        Assert.Equal(12, output.Attentions!.Count);    // one per inner layer of every pass
        Assert.Equal(output.LastHiddenState.ToArray(), output.HiddenStates[^1].ToArray());

        // Three layers over two groups: transformers' int(i / (3 / 2)) puts layers 0 and 1 in group 0.
        json["num_hidden_layers"] = 3;
        Assert.Equal([0, 0, 1], Enumerable.Range(0, 3).Select(((AlbertConfig)AutoConfig.FromJson(json)).GroupOfLayer));
    }

    public static TheoryData<string> NewModels => new() { "tiny-roberta", "tiny-xlm-roberta", "tiny-electra", "tiny-albert", "tiny-deberta-v2" };

    [Theory]
    [MemberData(nameof(NewModels))]
    public void SavePretrainedRoundTripsWeightsConfigAndOutputs(string name)
    {
        var golden = Goldens.Load(name);
        var inputs = GoldenInputs.Resolve(golden, golden.At("sequence_classification.pair.inputs"));
        using var model = AutoModelForSequenceClassification.FromPretrained(Fixtures.Model(name));
        string folder = Path.Combine(dir, name);
        model.SavePretrained(folder);
        Assert.Equal(File.ReadAllText(Path.Combine(Fixtures.Model(name), "config.json")).TrimEnd('\n'),
            File.ReadAllText(Path.Combine(folder, "config.json")).TrimEnd('\n'));
        using var reloaded = AutoModelForSequenceClassification.FromPretrained(folder);
        Assert.True(reloaded.LoadReport!.IsExactMatch, reloaded.LoadReport.Warning);
        Assert.Equal(model.Parameters.Select(p => p.Name), reloaded.Parameters.Select(p => p.Name));
        Assert.Equal(model.Forward(inputs).Logits.ToArray(), reloaded.Forward(inputs).Logits.ToArray());
    }

    [Theory]
    [MemberData(nameof(NewModels))]
    public void PaddingDoesNotChangeTheRealTokens(string name)
    {
        var golden = Goldens.Load(name);
        var batch = GoldenInputs.Resolve(golden, golden.At("sequence_classification.batch.inputs"));
        using var model = AutoModelForSequenceClassification.FromPretrained(Fixtures.Model(name));
        var logits = model.Forward(batch).Logits;
        // The second text alone, unpadded, gives the logits it has inside the padded batch.
        int length = batch.AttentionMask![1].ToArray().Sum();
        var alone = new ModelInputs
        {
            InputIds = IntTensor.FromRows([batch.InputIds[1].ToArray()[..length]]),
            AttentionMask = IntTensor.FromRows([Enumerable.Repeat(1, length).ToArray()]),
            TokenTypeIds = batch.TokenTypeIds is null ? null : IntTensor.FromRows([batch.TokenTypeIds[1].ToArray()[..length]]),
        };
        Approx.Equal(model.Forward(alone).Logits.ToArray(), logits[1].ToArray(), 2e-6, what: $"{name} unpadded vs padded");
    }
}
