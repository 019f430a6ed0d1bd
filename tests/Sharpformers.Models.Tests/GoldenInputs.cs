using System.Text.Json;
using Sharpformers.Tensors;
using Sharpformers.TestSupport;

namespace Sharpformers.Models.Tests;

/// <summary>Golden tokenized batches as model inputs, and a running record of the largest differences seen.</summary>
internal static class GoldenInputs
{
    /// <summary>Inputs given inline ({input_ids, attention_mask, token_type_ids?}) or as a dotted path into the golden.</summary>
    public static ModelInputs Resolve(JsonElement golden, JsonElement inputs)
    {
        var element = inputs.ValueKind == JsonValueKind.String ? golden.At(inputs.GetString()!) : inputs;
        return new ModelInputs
        {
            InputIds = IntTensor.FromRows(element.GetProperty("input_ids").IntRows()),
            AttentionMask = IntTensor.FromRows(element.GetProperty("attention_mask").IntRows()),
            TokenTypeIds = element.TryGetProperty("token_type_ids", out var types) ? IntTensor.FromRows(types.IntRows()) : null,
        };
    }

    public static void AssertTensor(JsonElement expected, Tensor actual, string what, double tolerance = 1e-5)
    {
        var (shape, data) = expected.Tensor();
        Assert.Equal(shape, actual.Shape);
        MaxDiffs.Record(what, Approx.MaxAbsDiff(data, actual.Span));
        Approx.Equal(data, actual.Span, tolerance, what: what);
    }
}

/// <summary>Largest absolute difference per check, for the report (tests/Sharpformers.Models.Tests/bin/.../golden-diffs.txt).</summary>
internal static class MaxDiffs
{
    private static readonly Lock Gate = new();
    private static readonly SortedDictionary<string, double> Worst = new(StringComparer.Ordinal);

    public static void Record(string what, double diff)
    {
        lock (Gate)
        {
            Worst[what] = Math.Max(diff, Worst.GetValueOrDefault(what));
            File.WriteAllLines(Path.Combine(AppContext.BaseDirectory, "golden-diffs.txt"),
                Worst.Select(kv => $"{kv.Value:E3}  {kv.Key}"));
        }
    }
}
