using System.Text.Json.Nodes;
using Sharpformers.Kernels;
using Sharpformers.Models.Bert;
using Sharpformers.Models.DistilBert;
using Sharpformers.Nn;
using Sharpformers.Tensors;
using Sharpformers.Tensors.Formats;
using Sharpformers.TestSupport;
using Sharpformers.Utils;
using static Sharpformers.TestSupport.DoubleReference;
using static Sharpformers.Models.Tests.WholeModelGradientFixture;

namespace Sharpformers.Models.Tests;

/// <summary>
/// DistilBertForMaskedLM and BertForMaskedLM: the training backward (head at the labelled positions
/// only, decoder tied to the word embeddings) against central differences of the whole model in
/// float64; inference and training forwards agreeing; HF's checkpoint names with the tied weight
/// saved once; loading HF-style checkpoints and fine-tuning from one; half-precision saving.
/// </summary>
public sealed class MaskedLMTests
{

    // -100 everywhere except some real positions; label 0 ([PAD]) is a legal target and puts the decoder's gradient on the padding row.
    private static readonly int[] Labels =
        [-100, 5, -100, 17, -100, 0, 3, -100, -100, 22, -100, -100, -100, 9, 9, -100, -100, -100];

    private static DistilBertConfig SmallDistilBert(string activation = "gelu") => new()
    {
        VocabSize = 23, Dim = 8, NLayers = 2, NHeads = 2, HiddenDim = 11, MaxPositionEmbeddings = 16, Activation = activation,
        Dropout = 0.1, AttentionDropout = 0.2,
    };

    private static BertConfig SmallBert() => new()
    {
        VocabSize = 23, HiddenSize = 8, NumHiddenLayers = 2, NumAttentionHeads = 2, IntermediateSize = 11,
        MaxPositionEmbeddings = 16, HiddenAct = "gelu", HiddenDropoutProb = 0.1, AttentionProbsDropoutProb = 0.2, LayerNormEps = 1e-7,
    };

    [Theory]
    [InlineData("gelu")]
    [InlineData("relu")]
    public void DistilBertForMaskedLMMatchesFloat64(string activation)
    {
        var config = SmallDistilBert(activation);
        using var model = DistilBertForMaskedLM.FromConfig(config, seed: 1);
        Randomise(model, 4);
        var inputs = Inputs(config.VocabSize);
        var result = model.TrainingForward(inputs, IntTensor.FromArray(Labels, Batch, Seq), new SeededRandom(31));
        Assert.Equal(Labels.Count(l => l != -100), result.NumPredicted);
        Assert.Null(result.Logits);
        model.Backward(0.9f);

        int c = config.Dim, v = config.VocabSize;
        var replay = new MaskReplay(31);
        var embeddingMask = replay.Next(0.1, Batch * Seq * c);
        var layerMasks = Enumerable.Range(0, 2).Select(_ => new EncoderLayerMasks(
            replay.Next(0.2, Batch * 2 * Seq * Seq), 0.2, null, 0, replay.Next(0.1, Batch * Seq * c), 0.1)).ToList();
        var values = new Dictionary<string, double[]>();
        double[] Get(string name) => values.TryGetValue(name, out var x) ? x : values[name] = ToDouble(model.Parameters[name].Value.Span);
        var ids = inputs.InputIds.ToArray();
        var positions = Enumerable.Range(0, Batch * Seq).Select(i => i % Seq).ToArray();
        double Loss()
        {
            var words = Get("distilbert.embeddings.word_embeddings.weight");
            var sum = Add(Embed(words, ids, c), Embed(Get("distilbert.embeddings.position_embeddings.weight"), positions, c));
            var h = Dropout(LayerNorm(sum, Get("distilbert.embeddings.LayerNorm.weight"), Get("distilbert.embeddings.LayerNorm.bias"), 1e-12), embeddingMask, 0.1);
            for (int l = 0; l < 2; l++)
            {
                h = EncoderLayer(h, LayerWeights(Get, $"distilbert.transformer.layer.{l}.", DistilBertLayerNames), Batch, Seq, 2, activation, 1e-12, Mask, layerMasks[l]);
            }
            var t = Map(Linear(h, Get("vocab_transform.weight"), Get("vocab_transform.bias"), c, c), a => DoubleReference.Activation(activation, a));
            t = LayerNorm(t, Get("vocab_layer_norm.weight"), Get("vocab_layer_norm.bias"), 1e-12);
            var logits = Linear(t, words, Get("vocab_projector.bias"), c, v);          // the decoder IS the word-embedding table
            return 0.9 * CrossEntropy(logits, v, Labels);
        }
        Assert.Equal(Loss() / 0.9, result.Loss!.Value, 5);
        var names = model.TrainableParameters.Select(p => p.Name).ToList();
        Assert.DoesNotContain("vocab_projector.weight", names);
        Assert.Equal(names.Count, names.Distinct().Count());
        foreach (var p in model.TrainableParameters)
        {
            GradientCheck.Check(p.Name, Get(p.Name), Loss, p.Grad!.Span, rel: 2e-4, abs: 2e-6, maxEntries: 16);
        }
        // Both uses reach the tied table: the padding row (never looked up at a scored position) gets the decoder's share only.
        Assert.Contains(model.Parameters["distilbert.embeddings.word_embeddings.weight"].Grad!.Span[..c].ToArray(), g => g != 0f);
    }

    [Fact]
    public void BertForMaskedLMMatchesFloat64()
    {
        var config = SmallBert();
        using var model = BertForMaskedLM.FromConfig(config, seed: 1);
        Randomise(model, 6);
        Assert.DoesNotContain(model.Parameters, p => p.Name.Contains("pooler", StringComparison.Ordinal));
        var inputs = Inputs(config.VocabSize, withTypes: true);
        var result = model.TrainingForward(inputs, IntTensor.FromArray(Labels, Batch, Seq), new SeededRandom(8));
        model.Backward(1f);

        int c = config.HiddenSize, v = config.VocabSize;
        var replay = new MaskReplay(8);
        var embeddingMask = replay.Next(0.1, Batch * Seq * c);
        var layerMasks = Enumerable.Range(0, 2).Select(_ => new EncoderLayerMasks(
            replay.Next(0.2, Batch * 2 * Seq * Seq), 0.2, replay.Next(0.1, Batch * Seq * c), 0.1, replay.Next(0.1, Batch * Seq * c), 0.1)).ToList();
        var values = new Dictionary<string, double[]>();
        double[] Get(string name) => values.TryGetValue(name, out var x) ? x : values[name] = ToDouble(model.Parameters[name].Value.Span);
        var ids = inputs.InputIds.ToArray();
        var types = inputs.TokenTypeIds!.ToArray();
        var positions = Enumerable.Range(0, Batch * Seq).Select(i => i % Seq).ToArray();
        double Loss()
        {
            var words = Get("bert.embeddings.word_embeddings.weight");
            var sum = Add(Add(Embed(words, ids, c), Embed(Get("bert.embeddings.token_type_embeddings.weight"), types, c)),
                Embed(Get("bert.embeddings.position_embeddings.weight"), positions, c));
            var h = Dropout(LayerNorm(sum, Get("bert.embeddings.LayerNorm.weight"), Get("bert.embeddings.LayerNorm.bias"), 1e-7), embeddingMask, 0.1);
            for (int l = 0; l < 2; l++)
            {
                h = EncoderLayer(h, LayerWeights(Get, $"bert.encoder.layer.{l}.", BertLayerNames), Batch, Seq, 2, "gelu", 1e-7, Mask, layerMasks[l]);
            }
            var t = Map(Linear(h, Get("cls.predictions.transform.dense.weight"), Get("cls.predictions.transform.dense.bias"), c, c), a => DoubleReference.Activation("gelu", a));
            t = LayerNorm(t, Get("cls.predictions.transform.LayerNorm.weight"), Get("cls.predictions.transform.LayerNorm.bias"), 1e-7);
            return CrossEntropy(Linear(t, words, Get("cls.predictions.bias"), c, v), v, Labels);
        }
        Assert.Equal(Loss(), result.Loss!.Value, 5);
        Assert.Equal("cls.predictions.bias", model.TrainableParameters.Select(p => p.Name).First(n => n.StartsWith("cls.", StringComparison.Ordinal)));
        foreach (var p in model.TrainableParameters)
        {
            GradientCheck.Check(p.Name, Get(p.Name), Loss, p.Grad!.Span, rel: 2e-4, abs: 2e-6, maxEntries: 16);
        }
    }

    [Fact]
    public void InferenceAndTrainingForwardsAgreeWithoutDropout()
    {
        var config = SmallDistilBert();
        using var model = DistilBertForMaskedLM.FromConfig(config, seed: 3);
        Randomise(model, 9);
        var inputs = Inputs(config.VocabSize);
        var labels = IntTensor.FromArray(Labels, Batch, Seq);
        var full = model.Forward(inputs, labels);
        Assert.Equal([Batch, Seq, config.VocabSize], full.Logits!.Shape);
        var labelled = model.PredictLabelled(inputs, labels);
        var positions = Enumerable.Range(0, Labels.Length).Where(i => Labels[i] != -100).ToArray();
        Assert.Equal([positions.Length, config.VocabSize], labelled.Logits!.Shape);
        for (int k = 0; k < positions.Length; k++)
        {
            var expected = full.Logits.Span.Slice(positions[k] * config.VocabSize, config.VocabSize).ToArray();
            Approx.Equal(expected, labelled.Logits.Span.Slice(k * config.VocabSize, config.VocabSize).ToArray(), 1e-6, 1e-6);
        }
        Assert.Equal(full.Loss!.Value, labelled.Loss!.Value, 5);
        var training = model.TrainingForward(inputs, labels, dropoutRandom: null);   // no generator: no dropout
        Assert.Equal(full.Loss.Value, training.Loss!.Value, 5);
        // Nothing to predict: a zero loss and no gradient (torch would give NaN).
        var none = IntTensor.Full(-100, Batch, Seq);
        model.ZeroGrad();
        Assert.Equal(0f, model.TrainingForward(inputs, none).Loss);
        model.Backward();
        Assert.All(model.TrainableParameters, p => Assert.DoesNotContain(p.Grad!.Span.ToArray(), g => g != 0f));
        Assert.Equal(0f, model.PredictLabelled(inputs, none).Loss);
    }

    [Fact]
    public void BadLabelsAreRejectedWithTheirPosition()
    {
        var config = SmallDistilBert();
        using var model = DistilBertForMaskedLM.FromConfig(config, seed: 3);
        var inputs = Inputs(config.VocabSize);
        var outside = (int[])Labels.Clone();
        outside[4] = 23;
        var e = Assert.Throws<ArgumentException>(() => model.TrainingForward(inputs, IntTensor.FromArray(outside, Batch, Seq)));
        Assert.Contains("23 at position 4", e.Message);
        Assert.Throws<ArgumentException>(() => model.PredictLabelled(inputs, IntTensor.FromArray(Labels[..6], 1, 6)));
    }

    [Fact]
    public void SavesHuggingFaceNamesWithTheTiedWeightOnceAndLoadsBack()
    {
        var config = SmallDistilBert();
        using var model = DistilBertForMaskedLM.FromConfig(config, seed: 3);
        Randomise(model, 10);
        using var dir = new TempDir();
        model.SavePretrained(dir.Path);
        using (var reader = CheckpointFiles.Open(dir.Path))
        {
            var names = reader.Tensors.Select(t => t.Name).ToHashSet();
            Assert.Contains("distilbert.embeddings.word_embeddings.weight", names);
            Assert.Contains("vocab_transform.weight", names);
            Assert.Contains("vocab_transform.bias", names);
            Assert.Contains("vocab_layer_norm.weight", names);
            Assert.Contains("vocab_layer_norm.bias", names);
            Assert.Contains("vocab_projector.bias", names);
            Assert.DoesNotContain("vocab_projector.weight", names);                    // tied: saved once, as transformers' safetensors
            Assert.Equal(model.Parameters.Count, names.Count);
        }
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, "config.json")))!;
        Assert.Equal("DistilBertForMaskedLM", json["architectures"]![0]!.GetValue<string>());

        var inputs = Inputs(config.VocabSize);
        var expected = model.Forward(inputs).Logits!.ToArray();
        using var loaded = AutoModelForMaskedLM.FromPretrained(dir.Path);
        Assert.IsType<DistilBertForMaskedLM>(loaded);
        Assert.Empty(loaded.LoadReport!.MissingKeys);
        Assert.Empty(loaded.LoadReport.UnexpectedKeys);
        Assert.Same(((DistilBertForMaskedLM)loaded).DistilBert.Embeddings.WordEmbeddings.Weight, ((DistilBertForMaskedLM)loaded).VocabProjector.Weight);
        Assert.Equal(expected, loaded.Forward(inputs).Logits!.ToArray());

        // A checkpoint holding the tied copy as well (older transformers .bin files) loads without a report.
        using var withCopy = new TempDir();
        File.Copy(Path.Combine(dir.Path, "config.json"), Path.Combine(withCopy.Path, "config.json"));
        var tensors = model.StateDict().Select(p => new KeyValuePair<string, Tensor>(p.Key, p.Value)).ToList();
        tensors.Add(new("vocab_projector.weight", model.Parameters["distilbert.embeddings.word_embeddings.weight"].Value));
        SafetensorsWriter.Write(Path.Combine(withCopy.Path, "model.safetensors"), tensors);
        using var fromCopy = DistilBertForMaskedLM.FromPretrained(withCopy.Path);
        Assert.Empty(fromCopy.LoadReport!.UnexpectedKeys);
        Assert.Equal(expected, fromCopy.Forward(inputs).Logits!.ToArray());
    }

    [Fact]
    public void BertForMaskedLMSavesClsPredictionsNames()
    {
        using var model = BertForMaskedLM.FromConfig(SmallBert(), seed: 2);
        using var dir = new TempDir();
        model.SavePretrained(dir.Path);
        using var reader = CheckpointFiles.Open(dir.Path);
        var names = reader.Tensors.Select(t => t.Name).ToHashSet();
        Assert.Contains("cls.predictions.bias", names);
        Assert.Contains("cls.predictions.transform.dense.weight", names);
        Assert.Contains("cls.predictions.transform.LayerNorm.bias", names);
        Assert.Contains("bert.embeddings.word_embeddings.weight", names);
        Assert.DoesNotContain("cls.predictions.decoder.weight", names);
        Assert.DoesNotContain("cls.predictions.decoder.bias", names);
        Assert.DoesNotContain(names, n => n.Contains("pooler", StringComparison.Ordinal));
    }

    [Fact]
    public void AMaskedLMCheckpointFineTunesIntoSequenceClassificationWithHuggingFacesReport()
    {
        using var model = DistilBertForMaskedLM.FromConfig(SmallDistilBert(), seed: 3);
        using var dir = new TempDir();
        model.SavePretrained(dir.Path);
        var messages = new List<string>();
        using var classifier = AutoModelForSequenceClassification.FromPretrained(dir.Path, new FromPretrainedOptions { NumLabels = 2, Seed = 1, Log = messages.Add });
        Assert.IsType<DistilBertForSequenceClassification>(classifier);
        var report = classifier.LoadReport!;
        Assert.Equal(["vocab_layer_norm.bias", "vocab_layer_norm.weight", "vocab_projector.bias", "vocab_transform.bias", "vocab_transform.weight"], report.UnexpectedKeys);
        Assert.Equal(["classifier.bias", "classifier.weight", "pre_classifier.bias", "pre_classifier.weight"], report.MissingKeys);
        var warning = Assert.Single(messages);
        Assert.Contains("were not used when initializing DistilBertForSequenceClassification", warning);
        Assert.Contains("newly initialized", warning);
        Assert.Equal(model.Parameters["distilbert.transformer.layer.1.ffn.lin2.weight"].Value.ToArray(),
            classifier.Parameters["distilbert.transformer.layer.1.ffn.lin2.weight"].Value.ToArray());

        // And the other way: a base checkpoint gets a new masked-LM head, reported.
        using var fromBase = AutoModelForMaskedLM.FromPretrained(Fixtures.Model("tiny-distilbert"), new FromPretrainedOptions { Seed = 1, Log = _ => { } });
        Assert.Contains("vocab_transform.weight", fromBase.LoadReport!.MissingKeys);
        Assert.DoesNotContain("vocab_projector.weight", fromBase.LoadReport.MissingKeys);
    }

    [Theory]
    [InlineData(DType.F16, "float16")]
    [InlineData(DType.BF16, "bfloat16")]
    public void HalfPrecisionSavesHalfTheBytesAndLoadsUpcast(DType dtype, string torchDtype)
    {
        using var model = DistilBertForMaskedLM.FromConfig(SmallDistilBert(), seed: 3);
        Randomise(model, 11);
        using var full = new TempDir();
        using var half = new TempDir();
        model.SavePretrained(full.Path);
        model.SavePretrained(half.Path, dtype);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(half.Path, "config.json")))!;
        Assert.Equal(torchDtype, json["torch_dtype"]!.GetValue<string>());
        long fullBytes = new FileInfo(Path.Combine(full.Path, "model.safetensors")).Length;
        long halfBytes = new FileInfo(Path.Combine(half.Path, "model.safetensors")).Length;
        long twoBytesPerValue = 2 * model.NumParameters;                               // the headers differ only in the digits of the offsets
        Assert.InRange(fullBytes - halfBytes, twoBytesPerValue - 128, twoBytesPerValue + 128);
        using (var reader = CheckpointFiles.Open(half.Path))
        {
            Assert.All(reader.Tensors, t => Assert.Equal(dtype, t.DType));
        }
        using var loaded = DistilBertForMaskedLM.FromPretrained(half.Path);
        var original = model.Parameters["vocab_transform.weight"].Value.ToArray();
        var rounded = loaded.Parameters["vocab_transform.weight"].Value.ToArray();
        for (int i = 0; i < original.Length; i++)
        {
            float expected = dtype == DType.F16 ? (float)(Half)original[i] : BitConverter.Int32BitsToSingle(ElementConversion.ToBFloat16Bits(original[i]) << 16);
            Assert.Equal(expected, rounded[i]);
        }
        Assert.Throws<ArgumentException>(() => model.SavePretrained(half.Path, DType.I32));
    }

    private sealed class TempDir : IDisposable
    {
        public TempDir()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "sf-mlm-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path);
        }

        public string Path { get; }

        public void Dispose()
        {
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
    /// <summary>InferencePrecision set on the masked-LM model is what its forward runs at (it once stayed float32).</summary>
    [Fact]
    public void Int8InferencePrecisionChangesTheMaskedLMForwardAndStaysClose()
    {
        var config = new DistilBertConfig { VocabSize = 40, Dim = 64, NLayers = 2, NHeads = 4, HiddenDim = 96, MaxPositionEmbeddings = 16 };
        using var model = DistilBertForMaskedLM.FromConfig(config, seed: 3);
        var inputs = Inputs(config.VocabSize);
        var f32 = model.Forward(inputs).Logits!.ToArray();
        model.InferencePrecision = Nn.Inference.InferencePrecision.Int8;
        var i8 = model.Forward(inputs).Logits!.ToArray();
        model.InferencePrecision = Nn.Inference.InferencePrecision.Float32;
        Assert.Equal(f32, model.Forward(inputs).Logits!.ToArray());
        Assert.NotEqual(f32, i8);
        double worst = f32.Zip(i8).Max(p => Math.Abs(p.First - p.Second));
        double range = f32.Max() - f32.Min();
        Assert.True(worst < 0.05 * range, $"int8 logits differ by {worst} (logit range {range})");
    }
}

