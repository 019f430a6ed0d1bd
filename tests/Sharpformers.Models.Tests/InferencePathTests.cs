using Sharpformers.Kernels;
using Sharpformers.Nn.Inference;
using Sharpformers.Tensors;
using Sharpformers.TestSupport;

namespace Sharpformers.Models.Tests;

/// <summary>
/// The inference path of the models: padding dropped for classification heads, the padded path kept
/// where HF computes padded positions, int8 as an opt-in, and no allocation that grows with the model.
/// </summary>
public sealed class InferencePathTests
{
    public static TheoryData<string> Models => new() { "tiny-bert", "tiny-distilbert" };

    private static ModelInputs RightPadded() => ModelInputs.FromIds([[7, 71, 16, 84, 119, 8, 30, 31, 40], [7, 473, 529, 8], [7, 90, 8]]);

    [Theory]
    [MemberData(nameof(Models))]
    public void DroppingPaddingGivesThePaddedBatchsLogits(string name)
    {
        using var model = AutoModelForSequenceClassification.FromPretrained(Fixtures.Model(name));
        var inputs = RightPadded();
        var paddingFree = model.Forward(inputs).Logits;
        // Asking for hidden states keeps the padded (B, T) layout: the reference for the same batch.
        var padded = model.Forward(inputs, outputHiddenStates: true).Logits;
        Approx.Equal(padded.ToArray(), paddingFree.ToArray(), absTol: 1e-6, what: $"{name} logits");
        for (int b = 0; b < 3; b++)
        {
            int length = inputs.AttentionMask!.Span.Slice(b * inputs.SequenceLength, inputs.SequenceLength).ToArray().Sum();
            var alone = model.Forward(new ModelInputs(new IntTensor(inputs.InputIds.Span.Slice(b * inputs.SequenceLength, length).ToArray(), 1, length))).Logits;
            Approx.Equal(alone.ToArray(), paddingFree[b].ToArray(), absTol: 1e-6, what: $"{name} sequence {b} alone");
        }
    }

    [Theory]
    [InlineData("tiny-bert", "batch")]
    [InlineData("tiny-bert", "pair")]
    [InlineData("tiny-distilbert", "batch")]
    [InlineData("tiny-distilbert", "batch_max_length_16")]
    public void PackedWeightsGiveTheGoldenCheckedResultBitForBit(string name, string section)
    {
        // The first pass multiplies from the weight tensors (what the golden parity tests check), later
        // passes from the packed copy: the same kernels in the same order, so the same bits.
        var golden = Goldens.Load(name);
        var inputs = GoldenInputs.Resolve(golden, golden.At($"sequence_classification.{section}").GetProperty("inputs"));
        using var model = AutoModelForSequenceClassification.FromPretrained(Fixtures.Model(name));
        var first = model.Forward(inputs).Logits.ToArray();
        Assert.Equal(first, model.Forward(inputs).Logits.ToArray());
        Assert.Equal(first, model.Forward(inputs).Logits.ToArray());
        using var encoder = AutoModel.FromPretrained(Fixtures.Model(name));
        var hidden = encoder.Forward(inputs).LastHiddenState.ToArray();
        Assert.Equal(hidden, encoder.Forward(inputs).LastHiddenState.ToArray());
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void LeftPaddingKeepsThePaddedPath(string name)
    {
        // hidden[:, 0] is a padded position here: HF classifies from it, so it must be computed as HF does.
        using var model = AutoModelForSequenceClassification.FromPretrained(Fixtures.Model(name));
        var ids = IntTensor.FromRows([[0, 0, 7, 71, 16, 8], [7, 473, 529, 84, 30, 8]]);
        var mask = IntTensor.FromRows([[0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]]);
        var logits = model.Forward(new ModelInputs(ids, mask)).Logits.ToArray();
        var padded = model.Forward(new ModelInputs(ids, mask), outputHiddenStates: true).Logits.ToArray();
        Assert.Equal(padded, logits);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Int8IsAnOptInCloseToFloat32(string name)
    {
        using var model = AutoModelForSequenceClassification.FromPretrained(Fixtures.Model(name));
        var inputs = RightPadded();
        Assert.Equal(InferencePrecision.Float32, model.InferencePrecision);
        var f32 = model.Forward(inputs).Logits.ToArray();
        model.InferencePrecision = InferencePrecision.Int8;
        var i8 = model.Forward(inputs).Logits.ToArray();
        model.InferencePrecision = InferencePrecision.Float32;
        Assert.Equal(f32, model.Forward(inputs).Logits.ToArray());
        // Stated tolerance for the tiny fixtures (random weights of std 0.2, whose nearly one-hot attention
        // amplifies rounding): within 12% of the logits' scale (measured with 7-bit activation codes:
        // 8.7% tiny-bert, 2.1% tiny-distilbert). Real models lose far less: DefaultModelTests.
        double scale = f32.Max(v => Math.Abs(v));
        double diff = Approx.MaxAbsDiff(f32, i8);
        Assert.True(diff > 0 && diff <= 0.12 * scale, $"{name}: int8 logits differ by {diff:E3} (scale {scale:E3})");
    }

    [Fact]
    public void ASteadyClassificationForwardAllocatesOnlyItsOutputs()
    {
        using var model = AutoModelForSequenceClassification.FromPretrained(Fixtures.Model("tiny-bert"));
        var inputs = RightPadded();
        int saved = KernelParallel.MaxThreads;
        KernelParallel.MaxThreads = 1;
        try
        {
            for (int i = 0; i < 5; i++) model.Forward(inputs);
            long before = GC.GetAllocatedBytesForCurrentThread();
            const int passes = 20;
            for (int i = 0; i < passes; i++) model.Forward(inputs);
            long perPass = (GC.GetAllocatedBytesForCurrentThread() - before) / passes;
            // The logits tensor and output objects, the sequence offsets, a few small closures: about a
            // kilobyte, however large the model or the batch's activations are.
            Assert.True(perPass < 2048, $"{perPass} bytes allocated per forward");
        }
        finally
        {
            KernelParallel.MaxThreads = saved;
        }
    }
}
