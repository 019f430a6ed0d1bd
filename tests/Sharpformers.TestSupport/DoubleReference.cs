namespace Sharpformers.TestSupport;

/// <summary>
/// Every layer of BERT and DistilBERT recomputed in float64, as plain loops over row-major arrays,
/// for finite-difference gradient checks: central differences of these functions are accurate to
/// ~1e-9, so they judge the float32 analytic backward passes. Shapes follow the engine's:
/// activations (B, T, C) flattened, weights (out, in) as checkpoints store them.
/// </summary>
public static class DoubleReference
{
    /// <summary>What float32 additive masks add for a padded key; exp of it underflows to exactly 0.</summary>
    public const double MaskedScore = -3.4028234663852886e38;

    public static double[] ToDouble(ReadOnlySpan<float> values)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = values[i];
        return result;
    }

    /// <summary>y (N, out) = x (N, in) · Wᵀ + b.</summary>
    public static double[] Linear(double[] x, double[] w, double[]? b, int inFeatures, int outFeatures)
    {
        int rows = x.Length / inFeatures;
        var y = new double[rows * outFeatures];
        for (int r = 0; r < rows; r++)
        {
            for (int o = 0; o < outFeatures; o++)
            {
                double sum = b is null ? 0 : b[o];
                for (int i = 0; i < inFeatures; i++) sum += x[r * inFeatures + i] * w[o * inFeatures + i];
                y[r * outFeatures + o] = sum;
            }
        }
        return y;
    }

    /// <summary>LayerNorm over rows of w.Length columns (biased variance, eps inside the root).</summary>
    public static double[] LayerNorm(double[] x, double[] w, double[] b, double eps)
    {
        int cols = w.Length;
        int rows = x.Length / cols;
        var y = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            double mean = 0, variance = 0;
            for (int c = 0; c < cols; c++) mean += x[r * cols + c];
            mean /= cols;
            for (int c = 0; c < cols; c++) variance += (x[r * cols + c] - mean) * (x[r * cols + c] - mean);
            double rstd = 1 / Math.Sqrt(variance / cols + eps);
            for (int c = 0; c < cols; c++) y[r * cols + c] = (x[r * cols + c] - mean) * rstd * w[c] + b[c];
        }
        return y;
    }

    /// <summary>HF's activations by config name ("gelu", "gelu_new", "relu", "tanh", "sigmoid", "silu", "quick_gelu", "linear").</summary>
    public static double Activation(string name, double v) => name switch
    {
        "gelu" => 0.5 * v * Erfc(-v / Math.Sqrt(2)),
        "gelu_new" or "gelu_pytorch_tanh" => 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))),
        "relu" => Math.Max(v, 0),
        "tanh" => Math.Tanh(v),
        "sigmoid" => 1 / (1 + Math.Exp(-v)),
        "silu" => v / (1 + Math.Exp(-v)),
        "quick_gelu" => v / (1 + Math.Exp(-1.702 * v)),
        "linear" => v,
        _ => throw new ArgumentException($"Unknown activation '{name}'."),
    };

    public static double[] Map(double[] x, Func<double, double> f) => x.Select(f).ToArray();

    /// <summary>Dropout with a given keep mask (null: identity).</summary>
    public static double[] Dropout(double[] x, byte[]? keep, double p)
    {
        if (keep is null || p == 0) return (double[])x.Clone();
        double scale = 1 / (1 - p);
        return x.Select((v, i) => keep[i] != 0 ? v * scale : 0).ToArray();
    }

    /// <summary>
    /// Multi-head attention on (B, T, C) projections with heads side by side: softmax(QKᵀ/√D + mask),
    /// dropout on the weights with <paramref name="keep"/> (B, H, T, T), times V.
    /// </summary>
    public static double[] Attention(double[] q, double[] k, double[] v, int batch, int seq, int heads, int[]? attentionMask, byte[]? keep, double p)
    {
        int c = q.Length / (batch * seq);
        int d = c / heads;
        double scale = 1 / Math.Sqrt(d);
        var context = new double[q.Length];
        var scores = new double[seq];
        for (int b = 0; b < batch; b++)
        {
            for (int h = 0; h < heads; h++)
            {
                for (int i = 0; i < seq; i++)
                {
                    double max = double.NegativeInfinity;
                    for (int j = 0; j < seq; j++)
                    {
                        double s = 0;
                        for (int e = 0; e < d; e++) s += q[(b * seq + i) * c + h * d + e] * k[(b * seq + j) * c + h * d + e];
                        s *= scale;
                        if (attentionMask is not null && attentionMask[b * seq + j] == 0) s += MaskedScore;
                        scores[j] = s;
                        max = Math.Max(max, s);
                    }
                    double z = 0;
                    for (int j = 0; j < seq; j++) z += scores[j] = Math.Exp(scores[j] - max);
                    for (int j = 0; j < seq; j++)
                    {
                        double weight = scores[j] / z;
                        if (keep is not null && p > 0) weight = keep[((b * heads + h) * seq + i) * seq + j] != 0 ? weight / (1 - p) : 0;
                        for (int e = 0; e < d; e++) context[(b * seq + i) * c + h * d + e] += weight * v[(b * seq + j) * c + h * d + e];
                    }
                }
            }
        }
        return context;
    }

    /// <summary>The weights of one post-LN encoder block by role: q/k/v/o/ffn1/ffn2 (weight, bias), ln1/ln2 (weight, bias).</summary>
    public sealed class EncoderLayerWeights : Dictionary<string, double[]>
    {
        public static readonly string[] Roles =
        [
            "q.weight", "q.bias", "k.weight", "k.bias", "v.weight", "v.bias", "o.weight", "o.bias", "ln1.weight", "ln1.bias",
            "ffn1.weight", "ffn1.bias", "ffn2.weight", "ffn2.bias", "ln2.weight", "ln2.bias",
        ];
    }

    /// <summary>Dropout masks of one block's training forward (null entries: no dropout there).</summary>
    public sealed record EncoderLayerMasks(byte[]? AttentionProbs, double AttentionProbsP, byte[]? AttentionOutput, double AttentionOutputP, byte[]? Output, double OutputP);

    /// <summary>h = LN₁(x + dropout(Wₒ·Attention(x))), y = LN₂(h + dropout(W₂·act(W₁·h))).</summary>
    public static double[] EncoderLayer(double[] x, EncoderLayerWeights w, int batch, int seq, int heads, string activation, double eps,
        int[]? attentionMask, EncoderLayerMasks? masks = null)
    {
        int c = w["q.bias"].Length;
        int inter = w["ffn1.bias"].Length;
        var q = Linear(x, w["q.weight"], w["q.bias"], c, c);
        var k = Linear(x, w["k.weight"], w["k.bias"], c, c);
        var v = Linear(x, w["v.weight"], w["v.bias"], c, c);
        var context = Attention(q, k, v, batch, seq, heads, attentionMask, masks?.AttentionProbs, masks?.AttentionProbsP ?? 0);
        var attentionOut = Dropout(Linear(context, w["o.weight"], w["o.bias"], c, c), masks?.AttentionOutput, masks?.AttentionOutputP ?? 0);
        var h = LayerNorm(attentionOut.Select((a, i) => a + x[i]).ToArray(), w["ln1.weight"], w["ln1.bias"], eps);
        var act = Map(Linear(h, w["ffn1.weight"], w["ffn1.bias"], c, inter), a => Activation(activation, a));
        var o = Dropout(Linear(act, w["ffn2.weight"], w["ffn2.bias"], inter, c), masks?.Output, masks?.OutputP ?? 0);
        return LayerNorm(o.Select((a, i) => a + h[i]).ToArray(), w["ln2.weight"], w["ln2.bias"], eps);
    }

    /// <summary>Cross-entropy, mean over labels other than −100.</summary>
    public static double CrossEntropy(double[] logits, int numClasses, int[] labels)
    {
        double total = 0;
        int counted = 0;
        for (int n = 0; n < labels.Length; n++)
        {
            if (labels[n] == -100) continue;
            double max = double.NegativeInfinity;
            for (int j = 0; j < numClasses; j++) max = Math.Max(max, logits[n * numClasses + j]);
            double z = 0;
            for (int j = 0; j < numClasses; j++) z += Math.Exp(logits[n * numClasses + j] - max);
            total += max + Math.Log(z) - logits[n * numClasses + labels[n]];
            counted++;
        }
        return total / counted;
    }

    public static double MeanSquaredError(double[] predictions, double[] targets) =>
        predictions.Select((p, i) => (p - targets[i]) * (p - targets[i])).Sum() / predictions.Length;

    public static double BinaryCrossEntropyWithLogits(double[] logits, double[] targets) =>
        logits.Select((x, i) => Math.Max(x, 0) - x * targets[i] + Math.Log(1 + Math.Exp(-Math.Abs(x)))).Sum() / logits.Length;

    /// <summary>Σ u ∘ y: turns a layer's output into a scalar whose gradient with respect to y is u.</summary>
    public static double Dot(double[] u, double[] y)
    {
        double sum = 0;
        for (int i = 0; i < y.Length; i++) sum += u[i] * y[i];
        return sum;
    }

    /// <summary>erfc in double (series below 2.5, continued fraction above).</summary>
    public static double Erfc(double a)
    {
        if (a < 0) return 2 - Erfc(-a);
        if (a < 2.5)
        {
            double term = a, sum = a, a2 = a * a;
            for (int n = 1; n < 200; n++)
            {
                term *= -a2 / n;
                double contribution = term / (2 * n + 1);
                sum += contribution;
                if (Math.Abs(contribution) < 1e-17 * Math.Abs(sum)) break;
            }
            return 1 - 2 / Math.Sqrt(Math.PI) * sum;
        }
        double f = a;
        for (int k = 120; k >= 1; k--) f = a + k / 2.0 / f;
        return Math.Exp(-a * a) / Math.Sqrt(Math.PI) / f;
    }
}

/// <summary>Central-difference gradient checks of float32 analytic gradients against a float64 function.</summary>
public static class GradientCheck
{
    /// <summary>
    /// For up to <paramref name="maxEntries"/> entries of <paramref name="point"/> (evenly spread, always
    /// including the first and last), (f(p + h) − f(p − h)) / 2h in double must be within
    /// abs + rel·|numeric| of the analytic gradient.
    /// </summary>
    public static void Check(string what, double[] point, Func<double> loss, ReadOnlySpan<float> analytic,
        double rel = 1e-4, double abs = 1e-5, int maxEntries = 48, double h = 1e-5)
    {
        if (analytic.Length != point.Length)
        {
            throw new Xunit.Sdk.XunitException($"{what}: analytic gradient has {analytic.Length} entries, the point {point.Length}.");
        }
        int step = Math.Max(1, point.Length / maxEntries);
        var indices = Enumerable.Range(0, point.Length).Where(i => i % step == 0 || i == point.Length - 1);
        foreach (int i in indices)
        {
            double original = point[i];
            double delta = h * Math.Max(1, Math.Abs(original));
            point[i] = original + delta;
            double plus = loss();
            point[i] = original - delta;
            double minus = loss();
            point[i] = original;
            double numeric = (plus - minus) / (2 * delta);
            double diff = Math.Abs(numeric - analytic[i]);
            if (!(diff <= abs + rel * Math.Abs(numeric)))
            {
                throw new Xunit.Sdk.XunitException($"{what}[{i}]: analytic {analytic[i]:R}, central difference {numeric:R}, |diff| {diff:E3}");
            }
        }
    }
}
