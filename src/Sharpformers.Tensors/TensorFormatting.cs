using System.Globalization;
using System.Text;

namespace Sharpformers.Tensors;

/// <summary>torch-like printing: nested brackets, aligned columns, "..." beyond 1000 elements (3 edge items).</summary>
internal static class TensorFormatting
{
    private const int SummarizeAbove = 1000;
    private const int EdgeItems = 3;

    public static string Format(ReadOnlySpan<float> data, int[] shape, string numberFormat)
    {
        bool summarize = data.Length > SummarizeAbove;
        var copy = data.ToArray();
        int width = 0;
        foreach (float v in copy) width = Math.Max(width, FormatNumber(v, numberFormat).Length);
        var sb = new StringBuilder("tensor(");
        if (shape.Length == 0)
        {
            sb.Append(FormatNumber(copy.Length > 0 ? copy[0] : 0, numberFormat));
        }
        else
        {
            Append(sb, copy, shape, 0, 0, width, numberFormat, summarize, indent: 7);
        }
        return sb.Append(')').ToString();
    }

    private static void Append(StringBuilder sb, float[] data, int[] shape, int dim, int offset, int width, string format, bool summarize, int indent)
    {
        int size = shape[dim];
        int stride = 1;
        for (int d = dim + 1; d < shape.Length; d++) stride *= shape[d];
        sb.Append('[');
        bool first = true;
        for (int i = 0; i < size; i++)
        {
            if (summarize && size > 2 * EdgeItems && i == EdgeItems)
            {
                Separator(sb, dim, shape.Length, indent, ref first);
                sb.Append("...");
                i = size - EdgeItems - 1;
                continue;
            }
            Separator(sb, dim, shape.Length, indent, ref first);
            if (dim == shape.Length - 1)
            {
                sb.Append(FormatNumber(data[offset + i], format).PadLeft(width));
            }
            else
            {
                Append(sb, data, shape, dim + 1, offset + i * stride, width, format, summarize, indent + 1);
            }
        }
        sb.Append(']');
    }

    private static void Separator(StringBuilder sb, int dim, int rank, int indent, ref bool first)
    {
        if (first)
        {
            first = false;
            return;
        }
        sb.Append(',');
        if (dim == rank - 1)
        {
            sb.Append(' ');
            return;
        }
        sb.Append('\n', rank - dim - 1);
        sb.Append(' ', indent + 1);
    }

    private static string FormatNumber(float v, string format) =>
        float.IsNaN(v) ? "nan" : float.IsPositiveInfinity(v) ? "inf" : float.IsNegativeInfinity(v) ? "-inf"
        : v.ToString(format, CultureInfo.InvariantCulture);
}
