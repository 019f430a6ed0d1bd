using System.Runtime.Intrinsics;

namespace Sharpformers.Kernels;

/// <summary>
/// Which vector width the element-wise kernels use: the widest the hardware accelerates, unless a
/// test narrows it on its own thread to exercise the Vector256 and scalar fallbacks on this machine.
/// </summary>
public static class SimdLevel
{
    [ThreadStatic]
    private static int maxBitsOverride;

    /// <summary>
    /// Caps the width for the current thread (512, 256 or 0 for scalar); null restores the default.
    /// Meant for tests: the fallback paths must be checked on hardware that would never pick them.
    /// </summary>
    public static int? MaxBitsForCurrentThread
    {
        get => maxBitsOverride == 0 ? null : maxBitsOverride - 1;
        set
        {
            if (value is not (null or 0 or 256 or 512))
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "Expected 512, 256, 0 (scalar) or null.");
            }
            maxBitsOverride = value is null ? 0 : value.Value + 1;
        }
    }

    public static bool Use512 => Vector512.IsHardwareAccelerated && (maxBitsOverride == 0 || maxBitsOverride - 1 >= 512);

    public static bool Use256 => Vector256.IsHardwareAccelerated && (maxBitsOverride == 0 || maxBitsOverride - 1 >= 256);
}
