using System.Text;
using System.Text.Json;
using Sharpformers.TestSupport;

namespace Sharpformers.Tokenizers.Tests;

/// <summary>Collects every mismatch against a golden and fails once with a readable list.</summary>
internal sealed class GoldenChecks(string what)
{
    private readonly List<string> failures = [];

    public int Checked { get; private set; }

    public void Equal<T>(IEnumerable<T> expected, IEnumerable<T> actual, string where)
    {
        Checked++;
        var e = expected.ToArray();
        var a = actual.ToArray();
        if (!e.SequenceEqual(a)) failures.Add($"{where}\n    expected [{string.Join(", ", e)}]\n    actual   [{string.Join(", ", a)}]");
    }

    public void Equal(string expected, string actual, string where)
    {
        Checked++;
        if (expected != actual) failures.Add($"{where}\n    expected {JsonSerializer.Serialize(expected)}\n    actual   {JsonSerializer.Serialize(actual)}");
    }

    public void True(bool condition, string where)
    {
        Checked++;
        if (!condition) failures.Add(where);
    }

    /// <summary>Compares each model input of a golden encoding ({input_ids, token_type_ids?, attention_mask}).</summary>
    public void Batch(JsonElement golden, BatchEncoding actual, string where, bool rowsAreBatch)
    {
        foreach (string key in new[] { "input_ids", "token_type_ids", "attention_mask" })
        {
            int[][]? ours = actual[key];
            if (!golden.TryGetProperty(key, out var expected))
            {
                True(ours is null, $"{where}: {key} is returned but transformers does not return it");
                continue;
            }
            if (ours is null)
            {
                True(false, $"{where}: {key} is missing");
                continue;
            }
            int[][] rows = rowsAreBatch ? expected.IntRows() : [expected.Ints()];
            True(rows.Length == ours.Length, $"{where}: {key} has {ours.Length} rows, expected {rows.Length}");
            for (int i = 0; i < Math.Min(rows.Length, ours.Length); i++) Equal(rows[i], ours[i], $"{where}: {key}[{i}]");
        }
    }

    public void AssertAll()
    {
        Assert.True(Checked > 0, $"{what}: nothing was checked");
        if (failures.Count == 0) return;
        var sb = new StringBuilder();
        sb.AppendLine($"{what}: {failures.Count} of {Checked} checks differ from transformers:");
        foreach (string f in failures.Take(25)) sb.AppendLine("  " + f);
        if (failures.Count > 25) sb.AppendLine($"  ... and {failures.Count - 25} more");
        Assert.Fail(sb.ToString());
    }
}
