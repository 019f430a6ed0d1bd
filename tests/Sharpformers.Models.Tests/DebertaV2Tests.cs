using System.Text.Json.Nodes;
using Sharpformers.Models.Configuration;
using Sharpformers.Models.DebertaV2;
using Sharpformers.Nn;
using Sharpformers.Tensors;
using Sharpformers.TestSupport;

namespace Sharpformers.Models.Tests;

/// <summary>
/// DeBERTa-v2 beyond what the tiny golden exercises: the log buckets, the disentangled attention and
/// the ConvLayer against naive double-precision transcriptions of modeling_deberta_v2.py, the
/// configuration variants (separate position projections, no buckets, embed_proj, absolute positions,
/// token types, no relative attention), and the class's own loss rules.
/// </summary>
public sealed class DebertaV2Tests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("deberta-tests-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Theory]
    // Values of transformers' make_log_bucket_position (float32, as torch computes it).
    [InlineData(32, 64, new[] { 0, 1, -1, 15, 16, 17, -17, 20, -20, 40, 63, -63 }, new[] { 0, 1, -1, 15, 16, 17, -17, 19, -19, 27, 31, -31 })]
    [InlineData(256, 512, new[] { 127, 128, 129, -129, 200, 300, -511, 511, 1000, -1000 }, new[] { 127, 128, 129, -129, 169, 207, -255, 255, 317, -317 })]
    public void LogBucketsMatchTransformers(int buckets, int maxPosition, int[] relative, int[] expected)
    {
        Assert.Equal(expected, relative.Select(r => DebertaV2RelativePositions.LogBucket(r, buckets, maxPosition)).ToArray());
    }

    [Fact]
    public void RelativePositionsAreQueryMinusKey()
    {
        Assert.Equal([0, -1, -2, 1, 0, -1], DebertaV2RelativePositions.Build(2, 3, bucketSize: -1, maxPosition: -1));
        var bucketed = DebertaV2RelativePositions.Build(64, 64, 32, 64);
        Assert.Equal(-31, bucketed[63]);        // query 0, key 63
        Assert.Equal(31, bucketed[63 * 64]);    // query 63, key 0
        Assert.Equal(0, bucketed[5 * 64 + 5]);
    }

    private static JsonObject TinyConfigJson() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Fixtures.Model("tiny-deberta-v2"), "config.json")))!.AsObject();

    private static DebertaV2Config Config(Action<JsonObject> edit)
    {
        var json = TinyConfigJson();
        json["initializer_range"] = 0.5; // large random weights, so every term moves the scores
        edit(json);
        return (DebertaV2Config)AutoConfig.FromJson(json, "test config.json");
    }

    public static TheoryData<string> AttentionVariants => new()
    {
        "tiny",                 // share_att_key, p2c + c2p, 32 buckets, layer-normalised relative embeddings
        "separate-projections", // pos_key_proj / pos_query_proj, no buckets, span 8 < sequence (clamped)
        "c2p-only",
        "p2c-only-buckets",
        "no-relative",
    };

    private static DebertaV2Config Variant(string name) => Config(json =>
    {
        switch (name)
        {
            case "separate-projections":
                json["share_att_key"] = false;
                json.Remove("position_buckets");
                json["max_relative_positions"] = 4;
                json["norm_rel_ebd"] = "none";
                break;
            case "c2p-only":
                json["pos_att_type"] = "c2p";
                break;
            case "p2c-only-buckets":
                json["pos_att_type"] = new JsonArray("p2c");
                json["share_att_key"] = false;
                json["position_buckets"] = 4;
                json["max_relative_positions"] = 8;
                break;
            case "no-relative":
                json["relative_attention"] = false;
                break;
        }
    });

    [Theory]
    [MemberData(nameof(AttentionVariants))]
    public void DisentangledAttentionMatchesTheFormula(string variant)
    {
        var config = Variant(variant);
        var encoder = new DebertaV2Encoder(config, ParameterBuilder.ForInitialization(seed: 11).Prefix("encoder"));
        var layer = encoder.Layers[0];
        int batch = 2, seq = 11, c = config.HiddenSize, heads = config.NumAttentionHeads;
        var mask = IntTensor.FromRows([Enumerable.Repeat(1, seq).ToArray(), [1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0]]);
        var x = RandomValues(batch * seq * c, seed: 3);

        var arena = new ActivationArena();
        var ctx = encoder.PrepareAttention(arena, batch, seq, mask, Memory<float>.Empty, Memory<float>.Empty);
        var acts = new DebertaV2LayerActivations(arena, batch, seq, c, heads, config.IntermediateSize, config.AttentionSpan,
            layer.ContentToPosition, layer.PositionToContent, keepForBackward: true);
        acts.Block.Input = x;
        layer.Forward(acts, ctx);

        var (probs, context) = ReferenceAttention(config, layer, ctx.RelativeEmbeddings.ToArray(), x.ToArray(), mask.ToArray(), batch, seq);
        Approx.Equal(probs, acts.Block.AttentionProbs.Span, 2e-6, what: $"{variant} attention probabilities");
        Approx.Equal(context, acts.Block.Context.Span, 2e-5, what: $"{variant} context");
        // XSoftmax: padded queries attend to nothing, real ones never to padding.
        var p = acts.Block.AttentionProbs.Span;
        for (int h = 0; h < heads; h++)
        {
            for (int i = 0; i < seq; i++)
            {
                var row = p.Slice(((1 * heads + h) * seq + i) * seq, seq);
                if (i >= 7) Assert.All(row.ToArray(), v => Assert.Equal(0f, v));
                else Assert.All(row[7..].ToArray(), v => Assert.Equal(0f, v));
            }
        }
    }

    /// <summary>modeling_deberta_v2.py's DisentangledSelfAttention, term by term, in double.</summary>
    private static (float[] Probs, float[] Context) ReferenceAttention(DebertaV2Config config, DebertaV2Layer layer, float[] rel,
        float[] x, int[] mask, int batch, int seq)
    {
        int c = config.HiddenSize, heads = config.NumAttentionHeads, d = c / heads;
        double[] Project(Linear linear, float[] input, int rows)
        {
            var w = linear.Weight.Value.Span;
            var bias = linear.Bias!.Value.Span;
            var y = new double[rows * c];
            for (int r = 0; r < rows; r++)
                for (int o = 0; o < c; o++)
                {
                    double s = bias[o];
                    for (int i = 0; i < c; i++) s += (double)input[r * c + i] * w[o * c + i];
                    y[r * c + o] = s;
                }
            return y;
        }
        var q = Project(layer.QueryProj, x, batch * seq);
        var k = Project(layer.KeyProj, x, batch * seq);
        var v = Project(layer.ValueProj, x, batch * seq);
        int span = config.AttentionSpan;
        bool c2p = config.RelativeAttention && config.UsesContentToPosition;
        bool p2c = config.RelativeAttention && config.UsesPositionToContent;
        var posKey = c2p ? Project(layer.PosKeyProj ?? layer.KeyProj, rel, 2 * span) : null;
        var posQuery = p2c ? Project(layer.PosQueryProj ?? layer.QueryProj, rel, 2 * span) : null;
        var relative = DebertaV2RelativePositions.Build(seq, seq, config.PositionBuckets ?? -1, config.EffectiveMaxRelativePositions);
        double scale = Math.Sqrt(d * (double)config.ScaleFactor);
        double Dot(double[] a, int rowA, double[] b, int rowB, int h)
        {
            double s = 0;
            for (int t = 0; t < d; t++) s += a[rowA * c + h * d + t] * b[rowB * c + h * d + t];
            return s;
        }
        var probs = new float[batch * heads * seq * seq];
        var context = new float[batch * seq * c];
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < seq; i++)
                {
                    if (mask[b * seq + i] == 0) continue;
                    var scores = new double[seq];
                    for (int j = 0; j < seq; j++)
                    {
                        double s = Dot(q, b * seq + i, k, b * seq + j, h) / scale;
                        if (c2p) s += Dot(q, b * seq + i, posKey!, Math.Clamp(relative[i * seq + j] + span, 0, 2 * span - 1), h) / scale;
                        if (p2c) s += Dot(k, b * seq + j, posQuery!, Math.Clamp(-relative[j * seq + i] + span, 0, 2 * span - 1), h) / scale;
                        scores[j] = mask[b * seq + j] == 0 ? double.NegativeInfinity : s;
                    }
                    double max = scores.Max();
                    double sum = scores.Sum(s => Math.Exp(s - max));
                    for (int j = 0; j < seq; j++)
                    {
                        double pr = Math.Exp(scores[j] - max) / sum;
                        probs[((b * heads + h) * seq + i) * seq + j] = (float)pr;
                        for (int t = 0; t < d; t++) context[(b * seq + i) * c + h * d + t] += (float)(pr * v[(b * seq + j) * c + h * d + t]);
                    }
                }
        return (probs, context);
    }

    [Theory]
    [InlineData(3, 1, "tanh")]
    [InlineData(5, 2, "gelu")]
    public void ConvLayerMatchesADirectConvolution(int kernel, int groups, string activation)
    {
        var config = Config(json =>
        {
            json["conv_kernel_size"] = kernel;
            json["conv_groups"] = groups;
            json["conv_act"] = activation;
        });
        var builder = ParameterBuilder.ForInitialization(seed: 5);
        var conv = new DebertaV2ConvLayer(config, builder.Prefix("conv"));
        RandomValues(32, seed: 9).Span.CopyTo(conv.Bias.Value.Span);
        int batch = 2, seq = 7, c = config.HiddenSize;
        var x = RandomValues(batch * seq * c, seed: 1);
        var residual = RandomValues(batch * seq * c, seed: 2);
        int[] mask = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0];
        var output = new float[batch * seq * c];
        var acts = new DebertaV2ConvActivations(new ActivationArena(), batch, seq, c, kernel, keepForBackward: true);
        conv.Forward(acts, x, residual, mask, batch, seq, output);

        // out[b, t, o] = bias[o] + Σ_{i in o's group} Σ_tap W[o, i, tap] · x[b, t + tap - pad, i]
        var w = conv.Weight.Value.Span;
        int cg = c / groups, pad = (kernel - 1) / 2;
        var act = activation == "tanh" ? ActivationFunction.Tanh : ActivationFunction.Gelu;
        var expected = new float[batch * seq * c];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < seq; t++)
            {
                var pre = new float[c];
                for (int o = 0; o < c; o++)
                {
                    double s = conv.Bias.Value.Span[o];
                    int g = o / cg;
                    for (int i = 0; i < cg; i++)
                        for (int tap = 0; tap < kernel; tap++)
                        {
                            int source = t + tap - pad;
                            if (source >= 0 && source < seq) s += (double)w[(o * cg + i) * kernel + tap] * x.Span[(b * seq + source) * c + g * cg + i];
                        }
                    pre[o] = mask[b * seq + t] == 0 ? 0f : (float)s;
                }
                act.ApplySpan(pre, pre);
                var sum = new double[c];
                for (int o = 0; o < c; o++) sum[o] = pre[o] + residual.Span[(b * seq + t) * c + o];
                double mean = sum.Average();
                double variance = sum.Select(s => (s - mean) * (s - mean)).Average();
                for (int o = 0; o < c; o++)
                {
                    double normed = (sum[o] - mean) / Math.Sqrt(variance + config.LayerNormEps);
                    expected[(b * seq + t) * c + o] = mask[b * seq + t] == 0 ? 0f : (float)normed;
                }
            }
        Approx.Equal(expected, output, 2e-5, what: $"conv k={kernel} groups={groups}");
    }

    [Fact]
    public void VariantsBuildUnderTransformersNamesAndRoundTripThroughSavePretrained()
    {
        var config = Config(json =>
        {
            json["share_att_key"] = false;
            json["embedding_size"] = 16;
            json["position_biased_input"] = true;
            json["type_vocab_size"] = 2;
            json["conv_kernel_size"] = 3;
        });
        using var model = DebertaV2ForSequenceClassification.FromConfig(config, seed: 4);
        var names = model.Parameters.Select(p => p.Name).ToList();
        Assert.Equal(
            ["deberta.embeddings.word_embeddings.weight", "deberta.embeddings.position_embeddings.weight", "deberta.embeddings.token_type_embeddings.weight",
             "deberta.embeddings.embed_proj.weight", "deberta.embeddings.LayerNorm.weight", "deberta.embeddings.LayerNorm.bias"],
            names.Take(6));
        Assert.Contains("deberta.encoder.layer.1.attention.self.pos_key_proj.bias", names);
        Assert.Contains("deberta.encoder.layer.1.attention.self.pos_query_proj.weight", names);
        Assert.Equal(["deberta.encoder.rel_embeddings.weight", "deberta.encoder.LayerNorm.weight", "deberta.encoder.LayerNorm.bias",
            "deberta.encoder.conv.conv.weight", "deberta.encoder.conv.conv.bias", "deberta.encoder.conv.LayerNorm.weight",
            "deberta.encoder.conv.LayerNorm.bias", "pooler.dense.weight", "pooler.dense.bias", "classifier.weight", "classifier.bias"], names.TakeLast(11));
        Assert.Equal([32, 32, 3], model.Parameters["deberta.encoder.conv.conv.weight"].Shape);

        var inputs = new ModelInputs
        {
            InputIds = IntTensor.FromRows([[1, 318, 385, 339, 2], [1, 84, 2, 0, 0]]),
            AttentionMask = IntTensor.FromRows([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]]),
            TokenTypeIds = IntTensor.FromRows([[0, 0, 0, 1, 1], [0, 0, 0, 0, 0]]),
        };
        var output = model.Forward(inputs, outputHiddenStates: true, outputAttentions: true);
        Assert.Equal(3, output.HiddenStates!.Count);
        Assert.Equal(2, output.Attentions!.Count);
        Assert.All(output.Logits.ToArray(), v => Assert.True(float.IsFinite(v)));
        // The ConvLayer's output (hidden_states[1]) is zero at padding.
        Assert.All(output.HiddenStates[1][1].Slice(3, 2).ToArray(), v => Assert.Equal(0f, v));
        var types = model.Forward(new ModelInputs(inputs.InputIds, inputs.AttentionMask)).Logits.ToArray();
        Assert.NotEqual(output.Logits.ToArray(), types); // token types count when type_vocab_size > 0

        string folder = Path.Combine(dir, "variant");
        model.SavePretrained(folder);
        using var reloaded = AutoModelForSequenceClassification.FromPretrained(folder);
        Assert.True(reloaded.LoadReport!.IsExactMatch, reloaded.LoadReport.Warning);
        Assert.Equal(output.Logits.ToArray(), reloaded.Forward(inputs).Logits.ToArray());
        var saved = (DebertaV2Config)reloaded.Config;
        Assert.Equal(3, saved.ConvKernelSize);
        Assert.False(saved.ShareAttentionKey);
        Assert.Equal(16, saved.EffectiveEmbeddingSize);
    }

    [Fact]
    public void AbsentPositionTableIsIgnoredAndLengthIsUnbounded()
    {
        // DeBERTa-v3 checkpoints may carry an unused position table; transformers ignores it.
        using var model = AutoModelForSequenceClassification.FromPretrained(Fixtures.Model("tiny-deberta-v2"));
        Assert.DoesNotContain(model.Parameters, p => p.Name.Contains("position_embeddings", StringComparison.Ordinal));
        // position_biased_input false: no absolute positions, so sequences beyond max_position_embeddings run.
        var ids = Enumerable.Range(0, 80).Select(i => 5 + i).ToArray();
        Assert.Equal([1, 4], model.Forward(IntTensor.FromRows([ids])).Logits.Shape);
    }

    [Fact]
    public void BaseCheckpointLoadsIntoTheClassifierWithANewPoolerAndHead()
    {
        string baseFolder = Path.Combine(dir, "base");
        using (var baseModel = AutoModel.FromPretrained(Fixtures.Model("tiny-deberta-v2")))
        {
            Assert.IsType<DebertaV2Model>(baseModel);
            Assert.Equal(["classifier.bias", "classifier.weight", "pooler.dense.bias", "pooler.dense.weight"], baseModel.LoadReport!.UnexpectedKeys);
            baseModel.SavePretrained(baseFolder);
        }
        var logged = new List<string>();
        using var model = AutoModelForSequenceClassification.FromPretrained(baseFolder, new FromPretrainedOptions { Log = logged.Add, Seed = 1 });
        Assert.Equal(["classifier.bias", "classifier.weight", "pooler.dense.bias", "pooler.dense.weight"], model.LoadReport!.MissingKeys);
        Assert.Contains("newly initialized", Assert.Single(logged));
    }

    [Fact]
    public void LossFollowsDebertaV2ForSequenceClassification()
    {
        var logits = Tensor.FromArray(new float[,] { { 1f, -2f, 0.5f }, { 0f, 3f, -1f }, { 2f, 2f, 0f } });
        var config = new DebertaV2Config { NumLabels = 3 };
        double Ce(int row, int label)
        {
            var l = logits[row].ToArray().Select(v => (double)v).ToArray();
            return Math.Log(l.Sum(Math.Exp)) - l[label];
        }

        // Negative labels (any, not only -100) are left out; problem_type stays unset.
        float loss = DebertaV2ForSequenceClassification.Loss(config, logits, IntTensor.FromArray([2, -1, 0]));
        Assert.Equal((Ce(0, 2) + Ce(2, 0)) / 2, loss, 5);
        Assert.Null(config.ProblemType);
        Assert.Equal(0f, DebertaV2ForSequenceClassification.Loss(config, logits, IntTensor.FromArray([-1, -5, -100])));
        // Float class labels are truncated like labels.long().
        Assert.Equal((Ce(0, 2) + Ce(1, 1) + Ce(2, 0)) / 3, DebertaV2ForSequenceClassification.Loss(config, logits, Tensor.FromArray([2.7f, 1f, 0.2f])), 5);

        // (B, num_labels) labels: soft cross-entropy.
        var soft = Tensor.FromArray(new float[,] { { 0.5f, 0f, 0.5f }, { 0f, 1f, 0f }, { 0.2f, 0.3f, 0.5f } });
        double expected = (0.5 * Ce(0, 0) + 0.5 * Ce(0, 2) + Ce(1, 1) + 0.2 * Ce(2, 0) + 0.3 * Ce(2, 1) + 0.5 * Ce(2, 2)) / 3;
        Assert.Equal(expected, DebertaV2ForSequenceClassification.Loss(config, logits, soft), 5);
        Assert.Null(config.ProblemType);

        // num_labels 1: MSE; a set problem_type follows BERT's rules.
        var one = new DebertaV2Config { NumLabels = 1 };
        Assert.Equal((0.25 + 4) / 2, DebertaV2ForSequenceClassification.Loss(one, Tensor.FromArray([0.5f, -1f], 2, 1), Tensor.FromArray([1f, 1f])), 5);
        Assert.Null(one.ProblemType);
        var multi = new DebertaV2Config { NumLabels = 3, ProblemType = "multi_label_classification" };
        float bce = DebertaV2ForSequenceClassification.Loss(multi, logits, Tensor.FromArray(new float[,] { { 1, 0, 1 }, { 0, 1, 0 }, { 0, 0, 0 } }));
        Assert.Equal(SequenceClassificationLoss.Compute(multi, logits, Tensor.FromArray(new float[,] { { 1, 0, 1 }, { 0, 1, 0 }, { 0, 0, 0 } })), bce);
        Assert.Throws<ArgumentException>(() => DebertaV2ForSequenceClassification.Loss(config, logits, IntTensor.FromArray([1, 2])));
    }

    [Fact]
    public void TrainingModeKeepsEveryLayersActivationsAndChangesNothing()
    {
        var config = Config(json => json["conv_kernel_size"] = 3);
        using var model = DebertaV2Model.FromConfig(config, seed: 8);
        var inputs = new ModelInputs
        {
            InputIds = IntTensor.FromRows([[1, 318, 385, 339, 2], [1, 84, 2, 0, 0]]),
            AttentionMask = IntTensor.FromRows([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]]),
        };
        var expected = model.Forward(inputs, outputHiddenStates: true);

        var arena = new ActivationArena();
        int batch = 2, seq = 5, c = config.HiddenSize;
        var embeddings = arena.Take(batch * seq * c);
        model.Embeddings.Forward(inputs.InputIds.Span, default, default, inputs.AttentionMask.Span,
            embeddings, embeddings, embeddings, Memory<float>.Empty, Memory<float>.Empty);
        var embeddingsCopy = embeddings.ToArray();
        var ctx = model.Encoder.PrepareAttention(arena, batch, seq, inputs.AttentionMask, Memory<float>.Empty, Memory<float>.Empty);
        var pass = model.Encoder.Run(arena, embeddings, ctx, outputAttentions: false, outputHiddenStates: true, keepForBackward: true);

        Assert.Equal(expected.LastHiddenState.ToArray(), pass.Pass.LastHidden.ToArray());
        for (int i = 0; i < expected.HiddenStates!.Count; i++) Assert.Equal(expected.HiddenStates[i].ToArray(), pass.Pass.HiddenStates![i].ToArray());
        Assert.Equal(embeddingsCopy, embeddings.ToArray()); // the input survives for backward
        var layers = pass.KeptLayers!;
        Assert.Equal(2, layers.Count);
        Assert.True(layers[0].Block.KeptForBackward);
        Assert.True(layers[0].Block.Input.Span.Overlaps(embeddings.Span));
        // The second layer reads the ConvLayer's output; the first layer's own output is the conv's residual, kept apart.
        Assert.Equal(expected.HiddenStates[1].ToArray(), layers[1].Block.Input.ToArray());
        Assert.False(layers[0].Block.Output.Span.Overlaps(layers[1].Block.Input.Span));
        Assert.False(layers[0].Block.AttentionProbs.Span.Overlaps(layers[1].Block.AttentionProbs.Span));
        Assert.False(layers[0].PositionKey.Span.Overlaps(layers[1].PositionKey.Span));
        Assert.NotNull(pass.KeptConv);
        Assert.True(pass.KeptConv!.KeptForBackward);
        Assert.Equal(expected.LastHiddenState.ToArray(), layers[1].Block.Output.ToArray());
    }

    private static Memory<float> RandomValues(int count, int seed)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }
}
