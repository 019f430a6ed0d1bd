using Sharpformers.Kernels;
using Sharpformers.Tensors;
using Sharpformers.Tensors.Storage;

namespace Sharpformers.Nn.Inference;

/// <summary>How an inference pass multiplies by the weights of linear layers.</summary>
public enum InferencePrecision
{
    /// <summary>float32 weights, pre-packed into the GEMM's panel layout (the default; results match the training forward).</summary>
    Float32,

    /// <summary>
    /// Dynamic int8 quantization (as torch.quantization.quantize_dynamic): weights int8 per output
    /// channel, activations quantized per token at each product, int32 accumulation. Opt-in; about
    /// 1e-2 relative error on a layer's output.
    /// </summary>
    Int8,
}

/// <summary>
/// One or more <see cref="Linear"/> layers over the same input, stacked along their outputs (BERT's
/// query, key and value become one (x, 3C) product), kept in the form inference multiplies by: packed
/// float32 panels or int8. Packed on the second float32 pass (the first multiplies straight from the
/// weights, packing each panel into scratch as it goes, which costs the same as packing would: a
/// process that classifies once, the CLI's cold start, then never pays for a packed copy it would not
/// reuse), on the first int8 pass, and again whenever a source weight changes (a new tensor, or its
/// <see cref="Parameter.Version"/>). While a weight has a gradient buffer (a model being trained, whose
/// optimizer writes the values in place) nothing is cached: every pass reads the current values.
/// The unpacked and packed float32 paths run the same kernels in the same order, so they agree bit
/// for bit (with 4 rows or fewer, where the unpacked GEMM would take dot products, the first pass packs).
/// </summary>
public sealed class InferenceLinear
{
    private readonly Linear[] parts;
    private readonly object gate = new();
    private Packed? current;
    private int directPasses;

    public InferenceLinear(params Linear[] parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Length == 0) throw new ArgumentException("Give at least one linear layer.", nameof(parts));
        InFeatures = parts[0].InFeatures;
        foreach (var p in parts)
        {
            if (p.InFeatures != InFeatures)
            {
                throw new ArgumentException($"Stacked linear layers must share their input width: {p.InFeatures} ≠ {InFeatures}.", nameof(parts));
            }
            OutFeatures += p.OutFeatures;
        }
        this.parts = parts;
    }

    public int InFeatures { get; }

    /// <summary>The stacked output width (the sum of the parts').</summary>
    public int OutFeatures { get; }

    /// <summary>Bytes held by the cached packed weights (0 until the first pass).</summary>
    public long PackedBytes => current?.Bytes ?? 0;

    /// <summary>
    /// y (rows, OutFeatures) at row stride <paramref name="ldy"/> = act(x (rows, InFeatures) · Wᵀ + b + beta·y):
    /// beta = 1 adds the product onto a residual already in y.
    /// </summary>
    public void Forward(InferencePrecision precision, ReadOnlySpan<float> x, int rows, Span<float> y, int ldy, float beta, EpilogueActivation activation)
    {
        // Up to 4 rows the unpacked GEMM takes dot products (other rounding): those pack right away.
        if (precision == InferencePrecision.Float32 && current is null && directPasses == 0 && rows > 4)
        {
            directPasses++;
            ForwardFromWeights(x, rows, y, ldy, beta, activation);
            return;
        }
        var packed = Acquire(precision);
        if (precision == InferencePrecision.Int8)
        {
            QuantizedGemm.Gemm(rows, OutFeatures, InFeatures, x, InFeatures, packed.Int8!, packed.Bias, beta, y, ldy, activation);
        }
        else
        {
            Gemm.Sgemm(Transpose.No, rows, OutFeatures, InFeatures, 1f, x, InFeatures, packed.Float32!, packed.Bias, beta, y, ldy, activation);
        }
    }

    /// <summary>The product straight from the weight tensors, part by part (each into its block of columns).</summary>
    private void ForwardFromWeights(ReadOnlySpan<float> x, int rows, Span<float> y, int ldy, float beta, EpilogueActivation activation)
    {
        int offset = 0;
        foreach (var p in parts)
        {
            Gemm.Sgemm(Transpose.No, Transpose.Yes, rows, p.OutFeatures, InFeatures, 1f, x, InFeatures, p.Weight.Value.Span, InFeatures,
                p.Bias is null ? ReadOnlySpan<float>.Empty : p.Bias.Value.Span, beta, y[offset..], ldy);
            offset += p.OutFeatures;
        }
        if (activation == EpilogueActivation.None) return;
        for (int r = 0; r < rows; r++) GemmEpilogue.Apply(activation, y.Slice(r * ldy, OutFeatures));
    }

    /// <summary>Drops the cached packed weights (they are rebuilt on the next pass).</summary>
    public void Reset()
    {
        lock (gate) current = null;
    }

    private Packed Acquire(InferencePrecision precision)
    {
        var packed = current;
        if (packed is not null && packed.Precision == precision && packed.IsCurrent(parts)) return packed;
        lock (gate)
        {
            packed = current;
            if (packed is not null && packed.Precision == precision && packed.IsCurrent(parts)) return packed;
            bool training = parts.Any(p => p.Weight.Grad is not null || p.Bias?.Grad is not null);
            packed = Pack(precision, releaseSources: !training);
            current = training ? null : packed;
            return packed;
        }
    }

    private Packed Pack(InferencePrecision precision, bool releaseSources)
    {
        int k = InFeatures, n = OutFeatures;
        var bias = new float[n];
        int offset = 0;
        foreach (var p in parts)
        {
            if (p.Bias is not null) p.Bias.Value.Span.CopyTo(bias.AsSpan(offset, p.OutFeatures));
            offset += p.OutFeatures;
        }
        // W (out, in) of each part stacked into one (n, k) matrix; a single part is read where it is.
        float[]? stacked = null;
        ReadOnlySpan<float> weight;
        if (parts.Length == 1)
        {
            weight = parts[0].Weight.Value.Span;
        }
        else
        {
            stacked = GC.AllocateUninitializedArray<float>(checked(n * k));
            offset = 0;
            foreach (var p in parts)
            {
                p.Weight.Value.Span.CopyTo(stacked.AsSpan(offset * k, p.OutFeatures * k));
                offset += p.OutFeatures;
            }
            weight = stacked;
        }
        PackedMatrix? f32 = null;
        QuantizedMatrix? i8 = null;
        if (precision == InferencePrecision.Int8) i8 = QuantizedMatrix.QuantizeWeights(weight, n, k);
        else f32 = Gemm.PackB(Transpose.Yes, k, n, weight, k);
        var sources = parts.Select(p => (p.Weight.Value, p.Weight.Version, p.Bias?.Value, p.Bias?.Version ?? 0)).ToArray();
        if (releaseSources)
        {
            // The packed copy is what inference reads from now on: the mapped checkpoint pages of the
            // weights go back to the page cache (see MappedPages); biases are small and stay.
            foreach (var p in parts) MappedPages.TryRelease(p.Weight.Value.Memory);
        }
        return new Packed(precision, f32, i8, bias, sources);
    }

    private sealed class Packed(InferencePrecision precision, PackedMatrix? float32, QuantizedMatrix? int8, float[] bias,
        (Tensor Weight, int WeightVersion, Tensor? Bias, int BiasVersion)[] sources)
    {
        public InferencePrecision Precision { get; } = precision;
        public PackedMatrix? Float32 { get; } = float32;
        public QuantizedMatrix? Int8 { get; } = int8;
        public float[] Bias { get; } = bias;

        public long Bytes => (Float32?.SizeInBytes ?? 0) + (Int8?.SizeInBytes ?? 0) + Bias.Length * sizeof(float);

        public bool IsCurrent(Linear[] parts)
        {
            for (int i = 0; i < parts.Length; i++)
            {
                var (weight, weightVersion, bias, biasVersion) = sources[i];
                var p = parts[i];
                if (!ReferenceEquals(p.Weight.Value, weight) || p.Weight.Version != weightVersion) return false;
                if (p.Weight.Grad is not null) return false;
                if (p.Bias is not null && (!ReferenceEquals(p.Bias.Value, bias) || p.Bias.Version != biasVersion || p.Bias.Grad is not null)) return false;
            }
            return true;
        }
    }
}
