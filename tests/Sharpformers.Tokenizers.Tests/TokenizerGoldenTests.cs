using System.Text.Json;
using System.Text.Json.Nodes;
using Sharpformers.TestSupport;

namespace Sharpformers.Tokenizers.Tests;

/// <summary>
/// Every case of the real-vocabulary goldens (tokenizer_*.json, produced by transformers 4.38's Python
/// tokenizers): strings, pairs, truncation and batches, for every variant of init arguments.
/// </summary>
public sealed class TokenizerGoldenTests
{
    public static TheoryData<string, string, bool> Variants()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (string name in new[] { "bert-base-uncased", "bert-base-chinese", "roberta-base" })
        {
            foreach (var variant in Goldens.Load("tokenizer_" + name).GetProperty("variants").EnumerateObject())
            {
                data.Add(name, variant.Name, false);
                // bert-base-uncased also ships a tokenizer.json: the fast path must agree on every case.
                if (name == "bert-base-uncased" && variant.Name == "do_lower_case_true") data.Add(name, variant.Name, true);
            }
        }
        return data;
    }

    /// <summary>The tokenizer the golden's Python class was built as: the vocabulary files with the variant's init arguments.</summary>
    internal static PreTrainedTokenizer Build(string name, JsonElement variant, bool useFast)
    {
        var overrides = new JsonObject
        {
            ["tokenizer_class"] = variant.GetProperty("tokenizer_class").GetString()!.Split(' ')[0],
            ["clean_up_tokenization_spaces"] = true,
            ["model_max_length"] = JsonValue.Create(1000000000000000019884624838656.0),
        };
        foreach (var kv in variant.GetProperty("init_kwargs").EnumerateObject()) overrides[kv.Name] = JsonNode.Parse(kv.Value.GetRawText());
        return AutoTokenizer.FromPretrained(Fixtures.Vocab(name), new TokenizerLoadOptions { UseFast = useFast, ConfigOverrides = overrides });
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void StringsMatch(string name, string variantName, bool useFast)
    {
        var variant = Goldens.Load("tokenizer_" + name).GetProperty("variants").GetProperty(variantName);
        var tokenizer = Build(name, variant, useFast);
        var checks = new GoldenChecks($"{name}/{variantName}{(useFast ? " (tokenizer.json)" : "")} strings");
        int index = 0;
        foreach (var s in variant.GetProperty("strings").EnumerateArray())
        {
            string text = s.GetProperty("text").GetString()!;
            string where = $"strings[{index++}] {JsonSerializer.Serialize(text)}";
            var ids = tokenizer.Encode(text);
            checks.Equal(s.GetProperty("ids").Ints(), ids, where + " ids");
            checks.Equal(s.GetProperty("ids_no_special").Ints(), tokenizer.Encode(text, addSpecialTokens: false), where + " ids_no_special");
            if (!useFast) checks.Equal(s.GetProperty("tokens").Strings(), tokenizer.Tokenize(text), where + " tokens");
            checks.Equal(s.GetProperty("tokens_with_special").Strings(), tokenizer.ConvertIdsToTokens(ids), where + " tokens_with_special");
            checks.Equal(s.GetProperty("decoded").GetString()!, tokenizer.Decode(ids, skipSpecialTokens: true), where + " decoded");
        }
        checks.AssertAll();
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void PairsTruncationAndBatchesMatch(string name, string variantName, bool useFast)
    {
        var variant = Goldens.Load("tokenizer_" + name).GetProperty("variants").GetProperty(variantName);
        var tokenizer = Build(name, variant, useFast);
        var checks = new GoldenChecks($"{name}/{variantName}{(useFast ? " (tokenizer.json)" : "")} pairs, truncation, batch");
        int index = 0;
        foreach (var p in variant.GetProperty("pairs").EnumerateArray())
        {
            string text = p.GetProperty("text").GetString()!, pair = p.GetProperty("text_pair").GetString()!;
            string where = $"pairs[{index++}] {JsonSerializer.Serialize(text)} + {JsonSerializer.Serialize(pair)}";
            var encoding = tokenizer.Call(text, pair);
            checks.Batch(p.GetProperty("encoding"), encoding, where, rowsAreBatch: false);
            checks.Equal(p.GetProperty("tokens").Strings(), encoding.Tokens(0), where + " tokens");
            checks.Equal(p.GetProperty("tokens").Strings(), tokenizer.ConvertIdsToTokens(encoding.InputIds[0]), where + " convert_ids_to_tokens");
            var padded = tokenizer.Call(text, pair, padding: PaddingStrategy.MaxLength, truncation: true, maxLength: 24);
            checks.Batch(p.GetProperty("max_length_24_padding_max_length_truncation_true"), padded, where + " max_length=24", rowsAreBatch: false);
        }
        index = 0;
        foreach (var t in variant.GetProperty("truncation_max_length_16").EnumerateArray())
        {
            string text = t.GetProperty("text").GetString()!;
            int maxLength = t.GetProperty("max_length").GetInt32();
            var encoding = tokenizer.Call(text, truncation: true, maxLength: maxLength);
            checks.Batch(t.GetProperty("encoding"), encoding, $"truncation[{index++}] {JsonSerializer.Serialize(text)}", rowsAreBatch: false);
        }
        var batch = variant.GetProperty("batch_first_40_padding_true_truncation_max_length_32");
        var texts = batch.GetProperty("texts").Strings();
        var result = tokenizer.Call(texts, padding: true, truncation: true, maxLength: 32);
        checks.Batch(batch, result, "batch of 40, padding=True, truncation=True, max_length=32", rowsAreBatch: true);
        checks.AssertAll();
    }
}
