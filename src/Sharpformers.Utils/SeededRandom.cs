namespace Sharpformers.Utils;

/// <summary>
/// A small, fast, seedable generator (xoshiro256**) whose whole state can be saved and restored,
/// which System.Random does not allow: a resumed training run must continue the exact same
/// sequence of shuffles and dropout masks. Not for cryptography.
/// </summary>
public sealed class SeededRandom
{
    private ulong s0, s1, s2, s3;
    private double? spareNormal;

    public SeededRandom(ulong seed)
    {
        // SplitMix64 expands the seed so that nearby seeds give unrelated streams.
        ulong x = seed;
        s0 = SplitMix(ref x);
        s1 = SplitMix(ref x);
        s2 = SplitMix(ref x);
        s3 = SplitMix(ref x);
    }

    private SeededRandom(ulong[] state, double? spare)
    {
        (s0, s1, s2, s3) = (state[0], state[1], state[2], state[3]);
        spareNormal = spare;
    }

    /// <summary>The full state (4 words + the cached Box-Muller value) for checkpoints.</summary>
    public SeededRandomState SaveState() => new([s0, s1, s2, s3], spareNormal);

    public static SeededRandom FromState(SeededRandomState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Words is not { Length: 4 } || state.Words.All(w => w == 0))
        {
            throw new ArgumentException("A random state needs 4 words, not all zero.", nameof(state));
        }
        return new SeededRandom(state.Words, state.SpareNormal);
    }

    public ulong NextUInt64()
    {
        ulong result = RotateLeft(s1 * 5, 7) * 9;
        ulong t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = RotateLeft(s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, 1) with 24 random bits.</summary>
    public float NextSingle() => (NextUInt64() >> 40) * (1.0f / (1 << 24));

    /// <summary>Uniform integer in [0, maxExclusive), without modulo bias.</summary>
    public int NextInt(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxExclusive);
        ulong bound = (ulong)maxExclusive;
        ulong threshold = (0UL - bound) % bound;
        while (true)
        {
            ulong r = NextUInt64();
            if (r >= threshold) return (int)(r % bound);
        }
    }

    /// <summary>Standard normal (Box-Muller, both values used).</summary>
    public double NextNormal()
    {
        if (spareNormal is double spare)
        {
            spareNormal = null;
            return spare;
        }
        double u1;
        do
        {
            u1 = NextDouble();
        }
        while (u1 <= double.Epsilon);
        double u2 = NextDouble();
        double radius = Math.Sqrt(-2.0 * Math.Log(u1));
        spareNormal = radius * Math.Sin(2 * Math.PI * u2);
        return radius * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Fills with normal(mean, std) values, as torch.nn.init.normal_ does (not bit-identical to torch).</summary>
    public void FillNormal(Span<float> destination, float mean, float std)
    {
        for (int i = 0; i < destination.Length; i++) destination[i] = (float)(mean + std * NextNormal());
    }

    /// <summary>Fisher-Yates shuffle in place.</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

/// <summary>A saved <see cref="SeededRandom"/> state (JSON-serialisable).</summary>
public sealed record SeededRandomState(ulong[] Words, double? SpareNormal);
