using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Sharpformers.Kernels;

/// <summary>
/// Vectorized float32 exp, erf, tanh, sigmoid and the two GELUs for the activation and softmax
/// kernels. Scalar versions evaluate the same polynomials in the same order, so a value gets the
/// same result whichever path computes it (vector body or scalar fallback).
/// </summary>
/// <remarks>
/// Accuracy (measured against 40-digit arithmetic): exp about 2 ulp; erf within 1.2e-7 absolute;
/// erfc tail and GELU(x) within 4e-7 relative for every x down to where they underflow; tanh and
/// sigmoid about 2 ulp. The coefficients were fitted for this file (Chebyshev fits in 40-digit
/// arithmetic, rounded to float32):
/// exp(r) on [-ln2/2, ln2/2], degree 6 (error 2e-9);
/// erf(x)/x as a polynomial in x² on [0, 1], degree 6 (error 1.2e-9);
/// x·exp(x²)·erfc(x) as a polynomial in u = 1/x on [1/10, 1], i.e. x in [1, 10], degree 10 (relative error 5e-8);
/// tanh(x)/x as a polynomial in x² on [0, 0.625], degree 5 (relative error 4e-9).
/// </remarks>
public static class SimdMath
{
    // exp: x = n·ln2 + r, ln2 split in two (Cody-Waite) so n·Ln2Hi is exact for every n we meet.
    private const float Log2E = 1.442695041f;
    private const float Ln2Hi = 0.693359375f;
    private const float Ln2Lo = -2.12194440e-4f;
    private const float ExpLowest = -104f;   // exp below this is 0 in float32, denormals included
    private const float ExpHighest = 89f;    // exp above 88.73 is +inf; the clamp keeps the exponent arithmetic in range

    private const float E6 = 1.394110848e-03f, E5 = 8.375125937e-03f, E4 = 4.166635126e-02f, E3 = 1.666641533e-01f;
    private const float E2 = 5.000000000e-01f, E1 = 1.000000000e+00f, E0 = 1.000000000e+00f;

    // erf(x) = x·P(x²) for |x| < 1.
    private const float ErfSmallLimit = 1f;
    private const float P6 = 7.875874871e-05f, P5 = -8.016864303e-04f, P4 = 5.189087242e-03f, P3 = -2.685421146e-02f;
    private const float P2 = 1.128359437e-01f, P1 = -3.761262596e-01f, P0 = 1.128379107e+00f;

    // erfc(a) = exp(-a²)·T(1/a)/a for a >= 1.
    private const float T10 = -4.093137756e-02f, T9 = 1.952154785e-01f, T8 = -3.070935905e-01f, T7 = -3.119910322e-02f;
    private const float T6 = 7.898123860e-01f, T5 = -1.227650404e+00f, T4 = 8.440442085e-01f, T3 = -8.673820645e-02f;
    private const float T2 = -2.713551223e-01f, T1 = -7.310587098e-04f, T0 = 5.642104149e-01f;

    // tanh(x) = x·Q(x²) for |x| < 0.625, else sign(x)·(1 - 2/(exp(2|x|) + 1)) (no cancellation there).
    private const float TanhSmallLimit = 0.625f;
    private const float Q5 = -5.657135043e-03f, Q4 = 2.058819123e-02f, Q3 = -5.372010916e-02f, Q2 = 1.333111376e-01f;
    private const float Q1 = -3.333325982e-01f, Q0 = 1.000000000e+00f;

    // erfc(a) underflows to 0 beyond a ≈ 10; capping a far above that keeps a² finite (no ∞·0 at a = ∞)
    // while exp(-a²) still gives exactly 0.
    private const float ErfcArgumentCap = 1e4f;

    private const float FracOneSqrt2 = 0.707106781f;
    private const float Sqrt2 = 1.41421356f;
    private const float SqrtTwoOverPi = 0.797884561f;
    private const float GeluTanhCubic = 0.044715f;

    /// <summary>Whether Vector512 code runs in hardware (the kernels' widest path).</summary>
    public static bool Vector512Accelerated => Vector512.IsHardwareAccelerated;

    // ---------------- scalar ----------------

    public static float Exp(float x)
    {
        if (float.IsNaN(x)) return x;
        x = Math.Clamp(x, ExpLowest, ExpHighest);
        float n = MathF.Round(x * Log2E);
        float r = MathF.FusedMultiplyAdd(n, -Ln2Hi, x);
        r = MathF.FusedMultiplyAdd(n, -Ln2Lo, r);
        float p = MathF.FusedMultiplyAdd(E6, r, E5);
        p = MathF.FusedMultiplyAdd(p, r, E4);
        p = MathF.FusedMultiplyAdd(p, r, E3);
        p = MathF.FusedMultiplyAdd(p, r, E2);
        p = MathF.FusedMultiplyAdd(p, r, E1);
        p = MathF.FusedMultiplyAdd(p, r, E0);
        int ni = (int)n;
        int n1 = ni >> 1;
        int n2 = ni - n1;
        return p * BitConverter.Int32BitsToSingle((n1 + 127) << 23) * BitConverter.Int32BitsToSingle((n2 + 127) << 23);
    }

    private static float ErfOverX(float s)
    {
        float p = MathF.FusedMultiplyAdd(P6, s, P5);
        p = MathF.FusedMultiplyAdd(p, s, P4);
        p = MathF.FusedMultiplyAdd(p, s, P3);
        p = MathF.FusedMultiplyAdd(p, s, P2);
        p = MathF.FusedMultiplyAdd(p, s, P1);
        return MathF.FusedMultiplyAdd(p, s, P0);
    }

    /// <summary>erfc(a) for a &gt;= 1, given a² as the unevaluated sum hi + lo.</summary>
    private static float ErfcTail(float a, float hi, float lo)
    {
        float u = 1f / a;
        float t = MathF.FusedMultiplyAdd(T10, u, T9);
        t = MathF.FusedMultiplyAdd(t, u, T8);
        t = MathF.FusedMultiplyAdd(t, u, T7);
        t = MathF.FusedMultiplyAdd(t, u, T6);
        t = MathF.FusedMultiplyAdd(t, u, T5);
        t = MathF.FusedMultiplyAdd(t, u, T4);
        t = MathF.FusedMultiplyAdd(t, u, T3);
        t = MathF.FusedMultiplyAdd(t, u, T2);
        t = MathF.FusedMultiplyAdd(t, u, T1);
        t = MathF.FusedMultiplyAdd(t, u, T0);
        float e = Exp(-hi);
        e = MathF.FusedMultiplyAdd(-e, lo, e);
        return e * t * u;
    }

    public static float Erf(float x)
    {
        float ax = MathF.Abs(x);
        if (ax < ErfSmallLimit) return x * ErfOverX(x * x);
        if (float.IsNaN(x)) return x;
        ax = MathF.Min(ax, ErfcArgumentCap);
        float hi = ax * ax;
        return MathF.CopySign(1f - ErfcTail(ax, hi, MathF.FusedMultiplyAdd(ax, ax, -hi)), x);
    }

    public static float Gelu(float x)
    {
        float z = x * FracOneSqrt2;
        float az = MathF.Abs(z);
        if (az < ErfSmallLimit) return x * MathF.FusedMultiplyAdd(0.5f * z, ErfOverX(z * z), 0.5f);
        if (float.IsNaN(x)) return x;
        // z² = x²/2 taken from x (exactly, as hi + lo) rather than from the rounded z: in the far tail
        // erfc's relative error is z² times the relative error of z².
        float ax = MathF.Min(MathF.Abs(x), ErfcArgumentCap * Sqrt2);
        float x2 = ax * ax;
        float tail = 0.5f * ErfcTail(ax * FracOneSqrt2, 0.5f * x2, 0.5f * MathF.FusedMultiplyAdd(ax, ax, -x2));
        return x * (z < 0 ? tail : 1f - tail);
    }

    public static float GeluTanh(float x)
    {
        float inner = MathF.FusedMultiplyAdd(GeluTanhCubic * x, x * x, x) * (2f * SqrtTwoOverPi);
        return x * Sigmoid(inner);
    }

    public static float Tanh(float x)
    {
        float ax = MathF.Abs(x);
        if (ax < TanhSmallLimit)
        {
            float s = x * x;
            float q = MathF.FusedMultiplyAdd(Q5, s, Q4);
            q = MathF.FusedMultiplyAdd(q, s, Q3);
            q = MathF.FusedMultiplyAdd(q, s, Q2);
            q = MathF.FusedMultiplyAdd(q, s, Q1);
            q = MathF.FusedMultiplyAdd(q, s, Q0);
            return x * q;
        }
        if (float.IsNaN(x)) return x;
        float e = Exp(ax + ax);
        return MathF.CopySign(1f - 2f / (e + 1f), x);
    }

    public static float Sigmoid(float x) => 1f / (1f + Exp(-x));

    // ---------------- Vector512 ----------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        // Max/Min propagate NaN, so exp(NaN) stays NaN through the polynomial.
        x = Vector512.Min(Vector512.Max(x, Vector512.Create(ExpLowest)), Vector512.Create(ExpHighest));
        var n = Vector512.Round(x * Vector512.Create(Log2E));
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Hi), x);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Lo), r);
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(E6), r, Vector512.Create(E5));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(E4));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(E3));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(E2));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(E1));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(E0));
        // 2^n as two factors so n in [-150, 129] never leaves the normal exponent range.
        var ni = Vector512.ConvertToInt32(n);
        var n1 = Vector512.ShiftRightArithmetic(ni, 1);
        var n2 = ni - n1;
        var bias = Vector512.Create(127);
        var s1 = Vector512.ShiftLeft(n1 + bias, 23).AsSingle();
        var s2 = Vector512.ShiftLeft(n2 + bias, 23).AsSingle();
        return p * s1 * s2;
    }

    /// <summary>erf(x)/x as a polynomial in s = x², valid for |x| &lt; 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> ErfOverX(Vector512<float> s)
    {
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(P6), s, Vector512.Create(P5));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(P4));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(P3));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(P2));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(P1));
        return Vector512.FusedMultiplyAdd(p, s, Vector512.Create(P0));
    }

    /// <summary>
    /// erfc(a) for a &gt;= 1, given a² as the unevaluated sum hi + lo, with small relative error
    /// (no cancellation).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> ErfcTail(Vector512<float> a, Vector512<float> hi, Vector512<float> lo)
    {
        var u = Vector512.Create(1f) / a;
        var t = Vector512.FusedMultiplyAdd(Vector512.Create(T10), u, Vector512.Create(T9));
        t = Vector512.FusedMultiplyAdd(t, u, Vector512.Create(T8));
        t = Vector512.FusedMultiplyAdd(t, u, Vector512.Create(T7));
        t = Vector512.FusedMultiplyAdd(t, u, Vector512.Create(T6));
        t = Vector512.FusedMultiplyAdd(t, u, Vector512.Create(T5));
        t = Vector512.FusedMultiplyAdd(t, u, Vector512.Create(T4));
        t = Vector512.FusedMultiplyAdd(t, u, Vector512.Create(T3));
        t = Vector512.FusedMultiplyAdd(t, u, Vector512.Create(T2));
        t = Vector512.FusedMultiplyAdd(t, u, Vector512.Create(T1));
        t = Vector512.FusedMultiplyAdd(t, u, Vector512.Create(T0));
        // exp(-a²) = exp(-hi - lo) ≈ exp(-hi)·(1 - lo).
        var e = Exp(-hi);
        e = Vector512.FusedMultiplyAdd(-e, lo, e);
        return e * t * u;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Erf(Vector512<float> x)
    {
        var ax = Vector512.Abs(x);
        var small = x * ErfOverX(x * x);
        var isSmall = Vector512.LessThan(ax, Vector512.Create(ErfSmallLimit));
        if (isSmall.ExtractMostSignificantBits() == ulong.MaxValue >> (64 - Vector512<float>.Count))
        {
            return small;
        }
        // Above 1 the tail is evaluated at max(|x|, 1) so out-of-range lanes stay finite.
        // Lanes below 1 (taken from the polynomial anyway) are lifted to 1 so the tail stays finite.
        var a = Vector512.Min(Vector512.Max(ax, Vector512.Create(ErfSmallLimit)), Vector512.Create(ErfcArgumentCap));
        var hi = a * a;
        var large = Vector512.Create(1f) - ErfcTail(a, hi, Vector512.FusedMultiplyAdd(a, a, -hi));
        large = Vector512.CopySign(large, x);
        return Vector512.ConditionalSelect(isSmall, small, large);
    }

    /// <summary>x·Φ(x) with Φ the standard normal CDF: GELU with the exact erf, without cancellation for x ≪ 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Gelu(Vector512<float> x)
    {
        var z = x * Vector512.Create(FracOneSqrt2);
        var az = Vector512.Abs(z);
        var half = Vector512.Create(0.5f);
        var small = Vector512.FusedMultiplyAdd(half * z, ErfOverX(z * z), half);
        var isSmall = Vector512.LessThan(az, Vector512.Create(ErfSmallLimit));
        if (isSmall.ExtractMostSignificantBits() == ulong.MaxValue >> (64 - Vector512<float>.Count))
        {
            return x * small;
        }
        // z² = x²/2 taken from x (exactly, as hi + lo) rather than from the rounded z: in the far tail
        // erfc's relative error is z² times the relative error of z².
        var ax = Vector512.Min(Vector512.Max(Vector512.Abs(x), Vector512.Create(Sqrt2 * ErfSmallLimit)), Vector512.Create(Sqrt2 * ErfcArgumentCap));
        var x2 = ax * ax;
        var tail = half * ErfcTail(ax * Vector512.Create(FracOneSqrt2), half * x2, half * Vector512.FusedMultiplyAdd(ax, ax, -x2));
        // Φ(x) = erfc(|z|)/2 below, 1 - erfc(z)/2 above.
        var large = Vector512.ConditionalSelect(Vector512.LessThan(z, Vector512<float>.Zero), tail, Vector512.Create(1f) - tail);
        return x * Vector512.ConditionalSelect(isSmall, small, large);
    }

    /// <summary>The tanh approximation of GELU, computed as x·sigmoid(2·√(2/π)·(x + 0.044715·x³)), which equals it exactly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> GeluTanh(Vector512<float> x)
    {
        var inner = Vector512.FusedMultiplyAdd(Vector512.Create(GeluTanhCubic) * x, x * x, x) * Vector512.Create(2f * SqrtTwoOverPi);
        return x * Sigmoid(inner);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Tanh(Vector512<float> x)
    {
        var ax = Vector512.Abs(x);
        var s = x * x;
        var q = Vector512.FusedMultiplyAdd(Vector512.Create(Q5), s, Vector512.Create(Q4));
        q = Vector512.FusedMultiplyAdd(q, s, Vector512.Create(Q3));
        q = Vector512.FusedMultiplyAdd(q, s, Vector512.Create(Q2));
        q = Vector512.FusedMultiplyAdd(q, s, Vector512.Create(Q1));
        q = Vector512.FusedMultiplyAdd(q, s, Vector512.Create(Q0));
        var small = x * q;
        var isSmall = Vector512.LessThan(ax, Vector512.Create(TanhSmallLimit));
        if (isSmall.ExtractMostSignificantBits() == ulong.MaxValue >> (64 - Vector512<float>.Count))
        {
            return small;
        }
        var one = Vector512.Create(1f);
        var e = Exp(ax + ax);
        var large = Vector512.CopySign(one - Vector512.Create(2f) / (e + one), x);
        return Vector512.ConditionalSelect(isSmall, small, large);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sigmoid(Vector512<float> x)
    {
        var one = Vector512.Create(1f);
        return one / (one + Exp(-x));
    }

    // ---------------- Vector256 ----------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        // Max/Min propagate NaN, so exp(NaN) stays NaN through the polynomial.
        x = Vector256.Min(Vector256.Max(x, Vector256.Create(ExpLowest)), Vector256.Create(ExpHighest));
        var n = Vector256.Round(x * Vector256.Create(Log2E));
        var r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Hi), x);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Lo), r);
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(E6), r, Vector256.Create(E5));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(E4));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(E3));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(E2));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(E1));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(E0));
        // 2^n as two factors so n in [-150, 129] never leaves the normal exponent range.
        var ni = Vector256.ConvertToInt32(n);
        var n1 = Vector256.ShiftRightArithmetic(ni, 1);
        var n2 = ni - n1;
        var bias = Vector256.Create(127);
        var s1 = Vector256.ShiftLeft(n1 + bias, 23).AsSingle();
        var s2 = Vector256.ShiftLeft(n2 + bias, 23).AsSingle();
        return p * s1 * s2;
    }

    /// <summary>erf(x)/x as a polynomial in s = x², valid for |x| &lt; 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> ErfOverX(Vector256<float> s)
    {
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(P6), s, Vector256.Create(P5));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(P4));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(P3));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(P2));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(P1));
        return Vector256.FusedMultiplyAdd(p, s, Vector256.Create(P0));
    }

    /// <summary>
    /// erfc(a) for a &gt;= 1, given a² as the unevaluated sum hi + lo, with small relative error
    /// (no cancellation).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> ErfcTail(Vector256<float> a, Vector256<float> hi, Vector256<float> lo)
    {
        var u = Vector256.Create(1f) / a;
        var t = Vector256.FusedMultiplyAdd(Vector256.Create(T10), u, Vector256.Create(T9));
        t = Vector256.FusedMultiplyAdd(t, u, Vector256.Create(T8));
        t = Vector256.FusedMultiplyAdd(t, u, Vector256.Create(T7));
        t = Vector256.FusedMultiplyAdd(t, u, Vector256.Create(T6));
        t = Vector256.FusedMultiplyAdd(t, u, Vector256.Create(T5));
        t = Vector256.FusedMultiplyAdd(t, u, Vector256.Create(T4));
        t = Vector256.FusedMultiplyAdd(t, u, Vector256.Create(T3));
        t = Vector256.FusedMultiplyAdd(t, u, Vector256.Create(T2));
        t = Vector256.FusedMultiplyAdd(t, u, Vector256.Create(T1));
        t = Vector256.FusedMultiplyAdd(t, u, Vector256.Create(T0));
        // exp(-a²) = exp(-hi - lo) ≈ exp(-hi)·(1 - lo).
        var e = Exp(-hi);
        e = Vector256.FusedMultiplyAdd(-e, lo, e);
        return e * t * u;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Erf(Vector256<float> x)
    {
        var ax = Vector256.Abs(x);
        var small = x * ErfOverX(x * x);
        var isSmall = Vector256.LessThan(ax, Vector256.Create(ErfSmallLimit));
        if (isSmall.ExtractMostSignificantBits() == 0xFFu)
        {
            return small;
        }
        // Above 1 the tail is evaluated at max(|x|, 1) so out-of-range lanes stay finite.
        // Lanes below 1 (taken from the polynomial anyway) are lifted to 1 so the tail stays finite.
        var a = Vector256.Min(Vector256.Max(ax, Vector256.Create(ErfSmallLimit)), Vector256.Create(ErfcArgumentCap));
        var hi = a * a;
        var large = Vector256.Create(1f) - ErfcTail(a, hi, Vector256.FusedMultiplyAdd(a, a, -hi));
        large = Vector256.CopySign(large, x);
        return Vector256.ConditionalSelect(isSmall, small, large);
    }

    /// <summary>x·Φ(x) with Φ the standard normal CDF: GELU with the exact erf, without cancellation for x ≪ 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Gelu(Vector256<float> x)
    {
        var z = x * Vector256.Create(FracOneSqrt2);
        var az = Vector256.Abs(z);
        var half = Vector256.Create(0.5f);
        var small = Vector256.FusedMultiplyAdd(half * z, ErfOverX(z * z), half);
        var isSmall = Vector256.LessThan(az, Vector256.Create(ErfSmallLimit));
        if (isSmall.ExtractMostSignificantBits() == 0xFFu)
        {
            return x * small;
        }
        // z² = x²/2 taken from x (exactly, as hi + lo) rather than from the rounded z: in the far tail
        // erfc's relative error is z² times the relative error of z².
        var ax = Vector256.Min(Vector256.Max(Vector256.Abs(x), Vector256.Create(Sqrt2 * ErfSmallLimit)), Vector256.Create(Sqrt2 * ErfcArgumentCap));
        var x2 = ax * ax;
        var tail = half * ErfcTail(ax * Vector256.Create(FracOneSqrt2), half * x2, half * Vector256.FusedMultiplyAdd(ax, ax, -x2));
        // Φ(x) = erfc(|z|)/2 below, 1 - erfc(z)/2 above.
        var large = Vector256.ConditionalSelect(Vector256.LessThan(z, Vector256<float>.Zero), tail, Vector256.Create(1f) - tail);
        return x * Vector256.ConditionalSelect(isSmall, small, large);
    }

    /// <summary>The tanh approximation of GELU, computed as x·sigmoid(2·√(2/π)·(x + 0.044715·x³)), which equals it exactly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> GeluTanh(Vector256<float> x)
    {
        var inner = Vector256.FusedMultiplyAdd(Vector256.Create(GeluTanhCubic) * x, x * x, x) * Vector256.Create(2f * SqrtTwoOverPi);
        return x * Sigmoid(inner);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Tanh(Vector256<float> x)
    {
        var ax = Vector256.Abs(x);
        var s = x * x;
        var q = Vector256.FusedMultiplyAdd(Vector256.Create(Q5), s, Vector256.Create(Q4));
        q = Vector256.FusedMultiplyAdd(q, s, Vector256.Create(Q3));
        q = Vector256.FusedMultiplyAdd(q, s, Vector256.Create(Q2));
        q = Vector256.FusedMultiplyAdd(q, s, Vector256.Create(Q1));
        q = Vector256.FusedMultiplyAdd(q, s, Vector256.Create(Q0));
        var small = x * q;
        var isSmall = Vector256.LessThan(ax, Vector256.Create(TanhSmallLimit));
        if (isSmall.ExtractMostSignificantBits() == 0xFFu)
        {
            return small;
        }
        var one = Vector256.Create(1f);
        var e = Exp(ax + ax);
        var large = Vector256.CopySign(one - Vector256.Create(2f) / (e + one), x);
        return Vector256.ConditionalSelect(isSmall, small, large);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sigmoid(Vector256<float> x)
    {
        var one = Vector256.Create(1f);
        return one / (one + Exp(-x));
    }
}
