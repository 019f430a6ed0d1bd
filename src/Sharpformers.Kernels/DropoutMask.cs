using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Sharpformers.Kernels;

/// <summary>
/// Dropout masks and their application. A mask is a counter-based stream: element i of a dropout
/// site is kept when hash(seed, i) ≥ p·2³², with a SplitMix64 finaliser as the hash. So the mask
/// is a pure function of (seed, index): any slice can be drawn on any thread with the same result,
/// and the caller needs one random seed per site (drawn from the trainer's generator) instead of
/// one draw per element. Kept elements are scaled by 1/(1 − p), as torch's dropout.
/// Naive twin: <see cref="DropoutMaskReference"/>.
/// </summary>
public static class DropoutMask
{
    /// <summary>keep[i] = 1 when element <paramref name="offset"/> + i of the site survives dropout with probability <paramref name="p"/>, else 0.</summary>
    public static void Draw(ulong seed, long offset, float p, Span<byte> keep)
    {
        ulong threshold = Threshold(p);
        int n = keep.Length;
        int i = 0;
        if (SimdLevel.Use512 && Avx512DQ.IsSupported && Bmi2.X64.IsSupported)
        {
            // Sixteen hashes per iteration (64-bit lanes need AVX-512DQ's multiply); each comparison's
            // 8 lane bits are spread into 8 bytes of 0/1 with one pdep.
            ref byte kr = ref MemoryMarshal.GetReference(keep);
            var lane = Vector512.Create(1UL, 2, 3, 4, 5, 6, 7, 8);
            var gamma = Vector512.Create(0x9E3779B97F4A7C15UL);
            var vseed = Vector512.Create(seed);
            var vthreshold = Vector512.Create(threshold);
            for (; i <= n - 16; i += 16)
            {
                var index = Vector512.Create((ulong)(offset + i)) + lane;
                uint low = (uint)Vector512.GreaterThanOrEqual(Vector512.ShiftRightLogical(Mix(vseed + index * gamma), 32), vthreshold).ExtractMostSignificantBits();
                index += Vector512.Create(8UL);
                uint high = (uint)Vector512.GreaterThanOrEqual(Vector512.ShiftRightLogical(Mix(vseed + index * gamma), 32), vthreshold).ExtractMostSignificantBits();
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref kr, i), Bmi2.X64.ParallelBitDeposit(low, 0x0101010101010101UL));
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref kr, i + 8), Bmi2.X64.ParallelBitDeposit(high, 0x0101010101010101UL));
            }
        }
        for (; i < n; i++)
        {
            keep[i] = (Hash(seed, (ulong)(offset + i)) >> 32) >= threshold ? (byte)1 : (byte)0;
        }
    }

    /// <summary>The SplitMix64 finaliser on eight lanes (the same steps as <see cref="Hash"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> Mix(Vector512<ulong> z)
    {
        z = (z ^ Vector512.ShiftRightLogical(z, 30)) * Vector512.Create(0xBF58476D1CE4E5B9UL);
        z = (z ^ Vector512.ShiftRightLogical(z, 27)) * Vector512.Create(0x94D049BB133111EBUL);
        return z ^ Vector512.ShiftRightLogical(z, 31);
    }

    /// <summary>y = x · scale where keep is 1, 0 where it is 0 (dropout forward, and its backward on dy). y may be x.</summary>
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<byte> keep, float scale, Span<float> y)
    {
        Checks.SameLengthOrAlias(x, y, nameof(x), nameof(y));
        if (keep.Length != x.Length) KernelThrow.Argument(nameof(keep), $"keep has length {keep.Length}, expected {x.Length} (one per element).");
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        ref byte kr = ref MemoryMarshal.GetReference(keep);
        int n = x.Length;
        int i = 0;
        if (SimdLevel.Use512)
        {
            var vs = Vector512.Create(scale);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var k = Vector128.LoadUnsafe(ref kr, (nuint)i);
                var mask = Vector512.WidenLower(Vector256.WidenLower(k.ToVector256()).ToVector512()).AsInt32();
                var keepLanes = Vector512.Equals(mask, Vector512<int>.Zero).AsSingle();
                Vector512.ConditionalSelect(keepLanes, Vector512<float>.Zero, Vector512.LoadUnsafe(ref xr, (nuint)i) * vs).StoreUnsafe(ref yr, (nuint)i);
            }
        }
        else if (SimdLevel.Use256)
        {
            var vs = Vector256.Create(scale);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var k = Vector64.LoadUnsafe(ref kr, (nuint)i);
                var mask = Vector256.WidenLower(Vector128.WidenLower(k.ToVector128()).ToVector256()).AsInt32();
                var keepLanes = Vector256.Equals(mask, Vector256<int>.Zero).AsSingle();
                Vector256.ConditionalSelect(keepLanes, Vector256<float>.Zero, Vector256.LoadUnsafe(ref xr, (nuint)i) * vs).StoreUnsafe(ref yr, (nuint)i);
            }
        }
        for (; i < n; i++) Unsafe.Add(ref yr, i) = Unsafe.Add(ref kr, i) != 0 ? Unsafe.Add(ref xr, i) * scale : 0f;
    }

    /// <summary>Elements whose 32-bit draw is below this are dropped: ⌈p·2³²⌉, so P(drop) = p up to 2⁻³².</summary>
    internal static ulong Threshold(float p)
    {
        if (!(p >= 0f && p < 1f)) KernelThrow.Argument(nameof(p), $"Dropout probability must be in [0, 1), got {p}.");
        return (ulong)Math.Ceiling(p * 4294967296.0);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Hash(ulong seed, ulong index)
    {
        ulong z = seed + (index + 1) * 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

/// <summary>The naive dropout that <see cref="DropoutMask"/> is tested against (same stream, plain loops).</summary>
public static class DropoutMaskReference
{
    public static void Draw(ulong seed, long offset, float p, Span<byte> keep)
    {
        double threshold = Math.Ceiling(p * 4294967296.0);
        for (int i = 0; i < keep.Length; i++)
        {
            keep[i] = (DropoutMask.Hash(seed, (ulong)(offset + i)) >> 32) >= threshold ? (byte)1 : (byte)0;
        }
    }

    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<byte> keep, float scale, Span<float> y)
    {
        for (int i = 0; i < x.Length; i++) y[i] = keep[i] != 0 ? (float)((double)x[i] * scale) : 0f;
    }
}
