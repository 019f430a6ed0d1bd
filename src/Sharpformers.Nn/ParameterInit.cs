namespace Sharpformers.Nn;

/// <summary>How a parameter is initialised when the checkpoint does not provide it (HF's _init_weights).</summary>
public abstract class ParameterInit
{
    public abstract void Fill(Span<float> values, IReadOnlyList<int> shape, NormalSampler random);

    /// <summary>N(0, std²), as HF initialises Linear and Embedding weights (std = initializer_range).</summary>
    public static ParameterInit Normal(double std) => new NormalInit(std, zeroRow: null);

    /// <summary>N(0, std²) with one row zeroed: an embedding's padding_idx.</summary>
    public static ParameterInit NormalWithZeroRow(double std, int? row) => new NormalInit(std, row);

    public static ParameterInit Zeros { get; } = new ConstantInit(0f);

    public static ParameterInit Ones { get; } = new ConstantInit(1f);

    /// <summary>A deterministic fill (e.g. a sinusoidal position table).</summary>
    public static ParameterInit Custom(Action<Span<float>, IReadOnlyList<int>> fill) => new CustomInit(fill);

    private sealed class NormalInit(double std, int? zeroRow) : ParameterInit
    {
        public override void Fill(Span<float> values, IReadOnlyList<int> shape, NormalSampler random)
        {
            random.Fill(values, std);
            if (zeroRow is int row && shape.Count == 2 && row >= 0 && row < shape[0])
            {
                values.Slice(row * shape[1], shape[1]).Clear();
            }
        }
    }

    private sealed class ConstantInit(float value) : ParameterInit
    {
        public override void Fill(Span<float> values, IReadOnlyList<int> shape, NormalSampler random) => values.Fill(value);
    }

    private sealed class CustomInit(Action<Span<float>, IReadOnlyList<int>> fill) : ParameterInit
    {
        public override void Fill(Span<float> values, IReadOnlyList<int> shape, NormalSampler random) => fill(values, shape);
    }
}

/// <summary>Normal samples from a seedable generator (Box-Muller over System.Random).</summary>
public sealed class NormalSampler(Random random)
{
    private double? spare;

    public NormalSampler(int? seed)
        : this(seed is int s ? new Random(s) : new Random())
    {
    }

    public double Next()
    {
        if (spare is double s)
        {
            spare = null;
            return s;
        }
        double u1;
        do
        {
            u1 = random.NextDouble();
        }
        while (u1 <= double.Epsilon);
        double u2 = random.NextDouble();
        double radius = Math.Sqrt(-2 * Math.Log(u1));
        spare = radius * Math.Sin(2 * Math.PI * u2);
        return radius * Math.Cos(2 * Math.PI * u2);
    }

    public void Fill(Span<float> values, double std)
    {
        for (int i = 0; i < values.Length; i++) values[i] = (float)(std * Next());
    }
}
