using System.Diagnostics.CodeAnalysis;

namespace Sharpformers.Kernels;

/// <summary>Validation failures of kernel arguments, kept out of line so the hot paths stay small.</summary>
internal static class KernelThrow
{
    [DoesNotReturn]
    public static void Argument(string paramName, string message) => throw new ArgumentException(message, paramName);

    [DoesNotReturn]
    public static void DestinationTooShort(string paramName) =>
        throw new ArgumentException("Destination is too short for the requested shape.", paramName);

    [DoesNotReturn]
    public static void SourceTooShort(string paramName) =>
        throw new ArgumentException("Source is too short for the requested shape.", paramName);
}
