namespace Sharpformers.Tensors;

/// <summary>Element types found in checkpoints. Compute is float32; half types are upcast at load.</summary>
public enum DType
{
    F32,
    F16,
    BF16,
    F64,
    I64,
    I32,
    I16,
    I8,
    U8,
    Bool,
}

public static class DTypeInfo
{
    /// <summary>Bytes per element.</summary>
    public static int SizeOf(this DType dtype) => dtype switch
    {
        DType.F64 or DType.I64 => 8,
        DType.F32 or DType.I32 => 4,
        DType.F16 or DType.BF16 or DType.I16 => 2,
        DType.I8 or DType.U8 or DType.Bool => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown dtype."),
    };

    /// <summary>The safetensors spelling ("F32", "BF16", ...).</summary>
    public static string SafetensorsName(this DType dtype) => dtype switch
    {
        DType.F32 => "F32",
        DType.F16 => "F16",
        DType.BF16 => "BF16",
        DType.F64 => "F64",
        DType.I64 => "I64",
        DType.I32 => "I32",
        DType.I16 => "I16",
        DType.I8 => "I8",
        DType.U8 => "U8",
        DType.Bool => "BOOL",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown dtype."),
    };

    /// <summary>Parses the safetensors spelling ("F32", "BF16", "BOOL", ...); false for anything else.</summary>
    public static bool TryParseSafetensorsName(string name, out DType dtype)
    {
        foreach (var candidate in Enum.GetValues<DType>())
        {
            if (candidate.SafetensorsName() == name)
            {
                dtype = candidate;
                return true;
            }
        }
        dtype = default;
        return false;
    }

    public static bool IsFloatingPoint(this DType dtype) => dtype is DType.F32 or DType.F16 or DType.BF16 or DType.F64;
}
