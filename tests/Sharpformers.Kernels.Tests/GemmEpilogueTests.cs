using Sharpformers.Kernels;
using Xunit;
using static Sharpformers.Kernels.Tests.GemmTestSupport;

namespace Sharpformers.Kernels.Tests;

/// <summary>The fused activation epilogue of the packed GEMM: the same bits as the product followed by the activation kernel.</summary>
[Collection(KernelThreadingCollection.Name)]
public sealed class GemmEpilogueTests
{
    private static void Unfused(EpilogueActivation activation, Span<float> y)
    {
        switch (activation)
        {
            case EpilogueActivation.Gelu: Activations.Gelu(y, y); break;
            case EpilogueActivation.GeluTanh: Activations.GeluTanh(y, y); break;
            case EpilogueActivation.QuickGelu: Activations.QuickGelu(y, y); break;
            case EpilogueActivation.Relu: Activations.Relu(y, y); break;
            case EpilogueActivation.Silu: Activations.Silu(y, y); break;
            case EpilogueActivation.Tanh: Activations.Tanh(y, y); break;
            case EpilogueActivation.Sigmoid: Activations.Sigmoid(y, y); break;
            case EpilogueActivation.None: break;
            default: throw new ArgumentOutOfRangeException(nameof(activation));
        }
    }

    [Theory]
    [InlineData(1, 37, 20)]
    [InlineData(7, 100, 700)]   // two k blocks: the activation runs once, after the last
    [InlineData(16, 3072 / 8, 96)]
    [InlineData(33, 49, 64)]
    [InlineData(130, 200, 40)]  // split across threads
    public void FusedActivationEqualsTheProductThenTheActivation(int m, int n, int k)
    {
        var rng = new Random(m * 13 + n + k);
        var a = Random(rng, m * k);
        var w = Random(rng, n * k);
        var bias = Random(rng, n);
        var packed = Gemm.PackB(Transpose.Yes, k, n, w, k);
        int ldc = n + 3;
        foreach (var activation in Enum.GetValues<EpilogueActivation>())
        {
            foreach (float beta in new[] { 0f, 1f })
            {
                var c0 = Random(rng, (m - 1) * ldc + n);
                var expected = (float[])c0.Clone();
                Gemm.Sgemm(Transpose.No, m, n, k, 1f, a, k, packed, bias, beta, expected, ldc);
                for (int i = 0; i < m; i++) Unfused(activation, expected.AsSpan(i * ldc, n));
                foreach (int threads in new[] { 1, 2 })
                {
                    var actual = (float[])c0.Clone();
                    WithThreads(threads, () => Gemm.Sgemm(Transpose.No, m, n, k, 1f, a, k, packed, bias, beta, actual, ldc, activation));
                    Assert.True(expected.AsSpan().SequenceEqual(actual), $"{activation}, beta {beta}, {threads} thread(s): fused result differs");
                }
            }
        }
    }

    [Fact]
    public void EveryKernelSetAppliesTheActivation()
    {
        foreach (var isa in RunnableIsas())
        {
            WithIsa(isa, () =>
            {
                var rng = new Random(5 + (int)isa);
                const int m = 11, n = 29, k = 31;
                var a = Random(rng, m * k, 3f);
                var w = Random(rng, n * k);
                var packed = Gemm.PackB(Transpose.Yes, k, n, w, k);
                var expected = new float[m * n];
                GemmReference.Sgemm(Transpose.No, Transpose.Yes, m, n, k, 1f, a, k, w, k, 0f, expected, n);
                var actual = new float[m * n];
                Gemm.Sgemm(Transpose.No, m, n, k, 1f, a, k, packed, [], 0f, actual, n, EpilogueActivation.Gelu);
                var gelu = new float[m * n];
                ActivationsReference.Gelu(expected, gelu);
                for (int i = 0; i < expected.Length; i++)
                {
                    Assert.True(Math.Abs(actual[i] - gelu[i]) <= 1e-4 * (1 + Math.Abs(gelu[i])), $"{isa}: [{i}] {actual[i]} vs GELU({expected[i]}) = {gelu[i]}");
                }
            });
        }
    }

    [Fact]
    public void ZeroDepthStillAppliesTheActivationToBiasAndBeta()
    {
        var packed = Gemm.PackB(Transpose.No, 0, 3, [], 3);
        var c = new float[] { -1f, 2f, -3f };
        Gemm.Sgemm(Transpose.No, 1, 3, 0, 1f, [], 1, packed, new float[] { 0.5f, 0.5f, 0.5f }, 1f, c, 3, EpilogueActivation.Relu);
        Assert.Equal([0f, 2.5f, 0f], c);
    }
}
