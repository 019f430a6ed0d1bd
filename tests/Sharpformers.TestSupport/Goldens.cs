using System.IO.Compression;
using System.Text.Json;

namespace Sharpformers.TestSupport;

/// <summary>
/// Reads the goldens that the real Python `transformers` produced (tests/fixtures/goldens/*.json.gz).
/// Floats in goldens are float32 values written as the shortest double repr: parse as double, cast to float.
/// </summary>
public static class Goldens
{
    private static readonly Dictionary<string, JsonDocument> Cache = new();
    private static readonly Lock CacheLock = new();

    /// <summary>Loads e.g. "tiny-bert" or "tokenizer_bert-base-uncased" (cached; do not dispose).</summary>
    public static JsonElement Load(string name)
    {
        lock (CacheLock)
        {
            if (!Cache.TryGetValue(name, out var doc))
            {
                var path = Path.Combine(Fixtures.Root, "goldens", name + ".json.gz");
                using var file = File.OpenRead(path);
                using var gzip = new GZipStream(file, CompressionMode.Decompress);
                doc = JsonDocument.Parse(gzip, new JsonDocumentOptions { MaxDepth = 256 });
                Cache[name] = doc;
            }
            return doc.RootElement;
        }
    }

    /// <summary>Follows a dotted path such as "tokenization.pair.truncation_true".</summary>
    public static JsonElement At(this JsonElement element, string dottedPath)
    {
        foreach (var part in dottedPath.Split('.'))
        {
            element = element.ValueKind == JsonValueKind.Array ? element[int.Parse(part)] : element.GetProperty(part);
        }
        return element;
    }

    public static int[] Ints(this JsonElement array) => array.EnumerateArray().Select(e => e.GetInt32()).ToArray();

    public static int[][] IntRows(this JsonElement array) => array.EnumerateArray().Select(Ints).ToArray();

    public static string[] Strings(this JsonElement array) =>
        array.EnumerateArray().Select(e => e.GetString() ?? throw new InvalidDataException("null string in golden")).ToArray();

    public static float[] Floats(this JsonElement array) => array.EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();

    /// <summary>A golden tensor {shape:[...], data:[flat row-major]}.</summary>
    public static (int[] Shape, float[] Data) Tensor(this JsonElement tensor) =>
        (tensor.GetProperty("shape").Ints(), tensor.GetProperty("data").Floats());
}
