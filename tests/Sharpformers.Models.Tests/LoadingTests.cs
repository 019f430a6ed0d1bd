using System.Text.Json.Nodes;
using Sharpformers.Models.Bert;
using Sharpformers.Models.DistilBert;
using Sharpformers.Tensors;
using Sharpformers.Tensors.Formats;
using Sharpformers.TestSupport;

namespace Sharpformers.Models.Tests;

public sealed class LoadingTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("loading-tests-").FullName;
    private readonly List<string> logged = [];

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private FromPretrainedOptions Options(int? numLabels = null, IReadOnlyDictionary<int, string>? id2Label = null, bool ignoreMismatched = false, int? seed = 7) =>
        new() { NumLabels = numLabels, Id2Label = id2Label, IgnoreMismatchedSizes = ignoreMismatched, Seed = seed, Log = logged.Add };

    /// <summary>A copy of a fixture folder whose weights are rewritten by <paramref name="rewrite"/> (name → new name, or null to drop).</summary>
    private string CopyWithWeights(string fixture, Func<string, string?> rewrite, IEnumerable<KeyValuePair<string, ITensor>>? extra = null)
    {
        string target = Path.Combine(dir, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(target);
        foreach (string file in Directory.GetFiles(Fixtures.Model(fixture)))
        {
            if (Path.GetFileName(file) != "model.safetensors") File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }
        using var reader = SafetensorsReader.Open(Path.Combine(Fixtures.Model(fixture), "model.safetensors"));
        var tensors = new List<KeyValuePair<string, ITensor>>();
        foreach (var info in reader.Tensors)
        {
            if (rewrite(info.Name) is string name) tensors.Add(new(name, reader.ReadTensor(info.Name).Clone()));
        }
        if (extra is not null) tensors.AddRange(extra);
        SafetensorsWriter.Write(Path.Combine(target, "model.safetensors"), tensors);
        return target;
    }

    private static ModelInputs SampleInputs() => ModelInputs.FromIds([[7, 71, 16, 84, 119, 8], [7, 473, 529, 8]]);

    [Fact]
    public void BaseCheckpointIntoANewHeadInitialisesAndReportsIt()
    {
        // A BertModel-only checkpoint (names without "bert."), as SavePretrained of the base model writes it.
        string baseFolder = Path.Combine(dir, "base");
        using (var baseModel = AutoModel.FromPretrained(Fixtures.Model("tiny-bert")))
        {
            baseModel.SavePretrained(baseFolder);
        }
        var labels = new Dictionary<int, string> { [0] = "a", [1] = "b", [2] = "c", [3] = "d", [4] = "e" };
        using var model = AutoModelForSequenceClassification.FromPretrained(baseFolder, Options(id2Label: labels));
        var report = model.LoadReport!;
        Assert.Equal(["classifier.bias", "classifier.weight"], report.MissingKeys);
        Assert.Empty(report.UnexpectedKeys);
        Assert.Equal(5, model.NumLabels);
        Assert.Equal("e", model.Config.Id2Label[4]);
        var message = Assert.Single(logged);
        Assert.StartsWith("Some weights of BertForSequenceClassification were not initialized from the model checkpoint at ", message);
        Assert.Contains("and are newly initialized: ['classifier.bias', 'classifier.weight']", message);
        Assert.Contains("You should probably TRAIN this model", message);

        // New head: weight ~ N(0, initializer_range = 0.2), bias 0.
        var weight = model.Parameters["classifier.weight"].Value.ToArray();
        Assert.Equal(5 * 32, weight.Length);
        double std = Math.Sqrt(weight.Select(w => (double)w * w).Average());
        Assert.InRange(std, 0.15, 0.25);
        Assert.All(model.Parameters["classifier.bias"].Value.ToArray(), b => Assert.Equal(0f, b));

        // Same seed, same head; the encoder is the checkpoint's.
        using var again = AutoModelForSequenceClassification.FromPretrained(baseFolder, Options(id2Label: labels));
        Assert.Equal(weight, again.Parameters["classifier.weight"].Value.ToArray());
        using var original = AutoModel.FromPretrained(Fixtures.Model("tiny-bert"));
        Assert.Equal(original.Parameters["encoder.layer.1.output.dense.weight"].Value.ToArray(),
            model.Parameters["bert.encoder.layer.1.output.dense.weight"].Value.ToArray());
        Assert.Equal([2, 5], model.Forward(SampleInputs()).Logits.Shape);
    }

    [Fact]
    public void PretrainingHeadWeightsAreReportedAsUnused()
    {
        string folder = CopyWithWeights("tiny-bert", n => n.StartsWith("classifier", StringComparison.Ordinal) ? null : n,
            [new("cls.predictions.bias", Tensor.Zeros(1028)), new("bert.embeddings.position_ids", IntTensor.FromArray(Enumerable.Range(0, 64).ToArray()))]);
        using var model = AutoModelForSequenceClassification.FromPretrained(folder, Options(numLabels: 2));
        Assert.Equal(["cls.predictions.bias"], model.LoadReport!.UnexpectedKeys); // position_ids is a known buffer
        Assert.Equal(["classifier.bias", "classifier.weight"], model.LoadReport.MissingKeys);
        Assert.Contains("were not used when initializing BertForSequenceClassification: ['cls.predictions.bias']", logged[0]);
        Assert.Equal(["LABEL_0", "LABEL_1"], model.Config.Id2Label.OrderBy(p => p.Key).Select(p => p.Value));
    }

    [Fact]
    public void HeadedCheckpointIntoABareModelDropsThePrefix()
    {
        using var model = BertModel.FromPretrained(Fixtures.Model("tiny-bert"), Options());
        Assert.Equal(["classifier.bias", "classifier.weight"], model.LoadReport!.UnexpectedKeys);
        Assert.Empty(model.LoadReport.MissingKeys);
        Assert.Equal("embeddings.word_embeddings.weight", model.Parameters[0].Name);
    }

    [Fact]
    public void LegacyGammaBetaNamesLoad()
    {
        string folder = CopyWithWeights("tiny-bert", n => n.Replace("LayerNorm.weight", "LayerNorm.gamma").Replace("LayerNorm.bias", "LayerNorm.beta"));
        using var legacy = AutoModelForSequenceClassification.FromPretrained(folder, Options());
        Assert.True(legacy.LoadReport!.IsExactMatch, legacy.LoadReport.Warning);
        using var model = AutoModelForSequenceClassification.FromPretrained(Fixtures.Model("tiny-bert"), Options());
        Assert.Equal(model.Forward(SampleInputs()).Logits.ToArray(), legacy.Forward(SampleInputs()).Logits.ToArray());
        Assert.Empty(logged);
    }

    [Fact]
    public void MissingEncoderWeightsAreAnErrorNamingThem()
    {
        string folder = CopyWithWeights("tiny-distilbert", n => n.Contains("layer.1.ffn", StringComparison.Ordinal) ? null : n);
        var ex = Assert.Throws<InvalidDataException>(() => AutoModelForSequenceClassification.FromPretrained(folder, Options()));
        Assert.Contains("lacks 4 of the", ex.Message);
        Assert.Contains("'distilbert.transformer.layer.1.ffn.lin1.weight'", ex.Message);
        Assert.Contains("AllowMissingWeights", ex.Message);
        using var lenient = AutoModelForSequenceClassification.FromPretrained(folder, new FromPretrainedOptions { AllowMissingWeights = true, Log = logged.Add });
        Assert.Equal(4, lenient.LoadReport!.MissingKeys.Count);
    }

    [Fact]
    public void MismatchedHeadShapeFailsUnlessIgnored()
    {
        var ex = Assert.Throws<InvalidDataException>(() => AutoModelForSequenceClassification.FromPretrained(Fixtures.Model("tiny-distilbert"), Options(numLabels: 3)));
        Assert.Contains("size mismatch for classifier.weight: the checkpoint has shape [2, 32], the model built from config.json needs [3, 32]", ex.Message);
        using var model = AutoModelForSequenceClassification.FromPretrained(Fixtures.Model("tiny-distilbert"), Options(numLabels: 3, ignoreMismatched: true));
        Assert.Equal(["classifier.weight", "classifier.bias"], model.LoadReport!.MismatchedKeys.Select(m => m.Name));
        Assert.Contains("- classifier.weight: found shape [2, 32] in the checkpoint and [3, 32] in the model instantiated", logged[0]);
        Assert.Equal([2, 3], model.Forward(SampleInputs()).Logits.Shape);
    }

    [Fact]
    public void WrongArchitectureForAConcreteClass()
    {
        var ex = Assert.Throws<InvalidDataException>(() => BertForSequenceClassification.FromPretrained(Fixtures.Model("tiny-distilbert")));
        Assert.Contains("model_type is 'distilbert', but BertForSequenceClassification needs 'bert'", ex.Message);
    }

    [Fact]
    public void FolderWithoutWeights()
    {
        File.Copy(Path.Combine(Fixtures.Model("tiny-bert"), "config.json"), Path.Combine(dir, "config.json"));
        var ex = Assert.Throws<FileNotFoundException>(() => AutoModelForSequenceClassification.FromPretrained(dir));
        Assert.Equal(
            $"The model folder '{dir}' has no model weights: looked for model.safetensors, model.safetensors.index.json, pytorch_model.bin and pytorch_model.bin.index.json.",
            ex.Message);
    }

    [Theory]
    [InlineData("tiny-bert")]
    [InlineData("tiny-distilbert")]
    public void SavePretrainedRoundTrips(string name)
    {
        using var model = AutoModelForSequenceClassification.FromPretrained(Fixtures.Model(name), Options());
        string saved = Path.Combine(dir, "saved");
        model.SavePretrained(saved);
        Assert.Equal(["config.json", "model.safetensors"], Directory.GetFiles(saved).Select(Path.GetFileName).Order());
        using var reloaded = AutoModelForSequenceClassification.FromPretrained(saved, Options());
        Assert.True(reloaded.LoadReport!.IsExactMatch);
        Assert.Equal(model.Forward(SampleInputs()).Logits.ToArray(), reloaded.Forward(SampleInputs()).Logits.ToArray());
        // Same tensor bytes and names as transformers wrote them.
        using var a = SafetensorsReader.Open(Path.Combine(Fixtures.Model(name), "model.safetensors"));
        using var b = SafetensorsReader.Open(Path.Combine(saved, "model.safetensors"));
        Assert.Equal(a.Tensors.Select(t => t.Name).Order(), b.Tensors.Select(t => t.Name).Order());
        Assert.Equal("pt", b.Metadata["format"]);
        foreach (var t in a.Tensors) Assert.True(a.RawBytes(t.Name).SequenceEqual(b.RawBytes(t.Name)), t.Name);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(saved, "config.json")))!;
        Assert.Equal(model.ClassName, config["architectures"]![0]!.GetValue<string>());
        // Saving into an existing folder keeps its other files.
        File.WriteAllText(Path.Combine(saved, "vocab.txt"), "[PAD]\n");
        reloaded.SavePretrained(saved);
        Assert.True(File.Exists(Path.Combine(saved, "vocab.txt")));
    }

    [Fact]
    public void ModelFromConfigIsSeededAndRunsWithSinusoidalPositions()
    {
        var config = new DistilBertConfig { VocabSize = 1028, Dim = 16, NHeads = 2, HiddenDim = 20, NLayers = 1, MaxPositionEmbeddings = 10, SinusoidalPosEmbds = true };
        using var a = DistilBertForSequenceClassification.FromConfig(config, seed: 3);
        using var b = DistilBertForSequenceClassification.FromConfig(config, seed: 3);
        Assert.Equal(a.Forward(SampleInputs()).Logits.ToArray(), b.Forward(SampleInputs()).Logits.ToArray());
        var table = a.Parameters["distilbert.embeddings.position_embeddings.weight"];
        Assert.False(table.RequiresGrad);
        Assert.Equal(0f, table.Value.At(0, 0));
        Assert.Equal(1f, table.Value.At(0, 1));
        Assert.Equal((float)Math.Sin(3), table.Value.At(3, 0));
        Assert.Equal((float)Math.Cos(3 / Math.Pow(10000, 2.0 * 7 / 16)), table.Value.At(3, 15));
        Assert.Null(a.LoadReport);
        // Padding row of the word embeddings is zero, as nn.Embedding(padding_idx) initialises it.
        Assert.All(a.Parameters["distilbert.embeddings.word_embeddings.weight"].Value[0].ToArray(), v => Assert.Equal(0f, v));
    }
}
