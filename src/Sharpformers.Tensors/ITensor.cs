namespace Sharpformers.Tensors;

/// <summary>What every tensor has, whatever its element type: a row-major shape and a dtype.</summary>
public interface ITensor
{
    DType DType { get; }

    /// <summary>Sizes of the dimensions, outermost first (row-major).</summary>
    IReadOnlyList<int> Shape { get; }

    int Rank { get; }

    /// <summary>Number of elements (the product of the shape; 1 for a scalar).</summary>
    int Length { get; }
}
