using Sharpformers.Kernels;
using Sharpformers.Nn;
using Sharpformers.Tensors;
using Sharpformers.Utils;
using static Sharpformers.TestSupport.DoubleReference;

namespace Sharpformers.Models.Tests;

/// <summary>
/// What the whole-model float64 gradient checks share (classification and masked-LM): a 3 × 6 batch
/// with padding, seeded weights and ids, the dropout masks replayed from the model's stream, and the
/// float64 reference's small helpers and checkpoint names.
/// </summary>
internal static class WholeModelGradientFixture
{
    public const int Batch = 3, Seq = 6;

    /// <summary>(B, T) attention mask: one full row, one with 2 padding positions, one with 3.</summary>
    public static readonly int[] Mask = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0];

    /// <summary>Uniform weights in ±0.5 (LayerNorm weights around 1), so every path carries a real gradient.</summary>
    public static void Randomise(PreTrainedModel model, int seed)
    {
        var rng = new Random(seed);
        foreach (var p in model.Parameters)
        {
            bool norm = p.Name.EndsWith("LayerNorm.weight", StringComparison.Ordinal) || p.Name.EndsWith("layer_norm.weight", StringComparison.Ordinal);
            var span = p.Value.Span;
            for (int i = 0; i < span.Length; i++) span[i] = (float)((rng.NextDouble() * 2 - 1) * 0.5 + (norm ? 1 : 0));
        }
    }

    /// <summary>Seeded ids (0 on padding) with one repeated id, optionally token types (1 from position 3).</summary>
    public static ModelInputs Inputs(int vocab, bool withTypes = false)
    {
        var rng = new Random(5);
        var ids = Enumerable.Range(0, Batch * Seq).Select(i => Mask[i] == 1 ? 1 + rng.Next(vocab - 1) : 0).ToArray();
        ids[0] = ids[7]; // a repeated id accumulates twice into one embedding row
        var types = Enumerable.Range(0, Batch * Seq).Select(i => Mask[i] == 1 && i % Seq >= 3 ? 1 : 0).ToArray();
        return new ModelInputs
        {
            InputIds = IntTensor.FromArray(ids, Batch, Seq),
            AttentionMask = IntTensor.FromArray(Mask, Batch, Seq),
            TokenTypeIds = withTypes ? IntTensor.FromArray(types, Batch, Seq) : null,
        };
    }

    /// <summary>The masks the model drew, rebuilt from the generator: one seed per active site, in forward order.</summary>
    public sealed class MaskReplay(ulong seed)
    {
        private readonly SeededRandom random = new(seed);

        public byte[]? Next(double p, int length)
        {
            if (p <= 0) return null;
            var keep = new byte[length];
            DropoutMask.Draw(random.NextUInt64(), 0, (float)p, keep);
            return keep;
        }
    }

    public static EncoderLayerWeights LayerWeights(Func<string, double[]> get, string prefix, string[] names)
    {
        var w = new EncoderLayerWeights();
        for (int i = 0; i < EncoderLayerWeights.Roles.Length; i++) w[EncoderLayerWeights.Roles[i]] = get(prefix + names[i]);
        return w;
    }

    /// <summary>(ids.Length, dim) rows of a (vocab, dim) table.</summary>
    public static double[] Embed(double[] table, int[] ids, int dim)
    {
        var result = new double[ids.Length * dim];
        for (int i = 0; i < ids.Length; i++) Array.Copy(table, ids[i] * dim, result, i * dim, dim);
        return result;
    }

    public static double[] Add(double[] a, double[] b) => a.Select((v, i) => v + b[i]).ToArray();

    /// <summary>A BERT layer's checkpoint names, in <see cref="EncoderLayerWeights.Roles"/> order.</summary>
    public static readonly string[] BertLayerNames =
    [
        "attention.self.query.weight", "attention.self.query.bias", "attention.self.key.weight", "attention.self.key.bias",
        "attention.self.value.weight", "attention.self.value.bias", "attention.output.dense.weight", "attention.output.dense.bias",
        "attention.output.LayerNorm.weight", "attention.output.LayerNorm.bias", "intermediate.dense.weight", "intermediate.dense.bias",
        "output.dense.weight", "output.dense.bias", "output.LayerNorm.weight", "output.LayerNorm.bias",
    ];

    /// <summary>A DistilBERT block's checkpoint names, in <see cref="EncoderLayerWeights.Roles"/> order.</summary>
    public static readonly string[] DistilBertLayerNames =
    [
        "attention.q_lin.weight", "attention.q_lin.bias", "attention.k_lin.weight", "attention.k_lin.bias",
        "attention.v_lin.weight", "attention.v_lin.bias", "attention.out_lin.weight", "attention.out_lin.bias",
        "sa_layer_norm.weight", "sa_layer_norm.bias", "ffn.lin1.weight", "ffn.lin1.bias",
        "ffn.lin2.weight", "ffn.lin2.bias", "output_layer_norm.weight", "output_layer_norm.bias",
    ];
}
