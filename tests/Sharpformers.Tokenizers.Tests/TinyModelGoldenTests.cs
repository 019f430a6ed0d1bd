using System.Text.Json;
using Sharpformers.TestSupport;

namespace Sharpformers.Tokenizers.Tests;

/// <summary>The tokenization section of every tiny-model golden: tokens, ids, truncation, pairs, batches, decodes.</summary>
public sealed class TinyModelGoldenTests
{
    public static TheoryData<string> Models() =>
        new("tiny-bert", "tiny-distilbert", "tiny-electra", "tiny-roberta", "tiny-albert", "tiny-xlm-roberta", "tiny-deberta-v2");

    [Theory]
    [MemberData(nameof(Models))]
    public void TokenizationMatchesTransformers(string model)
    {
        var golden = Goldens.Load(model).GetProperty("tokenization");
        var tokenizer = AutoTokenizer.FromPretrained(Fixtures.Model(model));
        var checks = new GoldenChecks($"{model} tokenization");
        int index = 0;
        var texts = new List<string>();
        foreach (var p in golden.GetProperty("per_text").EnumerateArray())
        {
            string text = p.GetProperty("text").GetString()!;
            texts.Add(text);
            string where = $"per_text[{index++}] {JsonSerializer.Serialize(text)}";
            checks.Equal(p.GetProperty("tokens").Strings(), tokenizer.Tokenize(text), where + " tokens");
            var encoding = tokenizer.Call(text);
            checks.Batch(p.GetProperty("encoding"), encoding, where, rowsAreBatch: false);
            checks.Equal(p.GetProperty("tokens_with_special").Strings(), tokenizer.ConvertIdsToTokens(encoding.InputIds[0]), where + " tokens_with_special");
            checks.Batch(p.GetProperty("encoding_truncation_true"), tokenizer.Call(text, truncation: true), where + " truncation=True", rowsAreBatch: false);
            checks.Equal(p.GetProperty("decoded").GetString()!, tokenizer.Decode(encoding.InputIds[0]), where + " decoded");
            checks.Equal(p.GetProperty("decoded_skip_special").GetString()!, tokenizer.Decode(encoding.InputIds[0], skipSpecialTokens: true),
                where + " decoded (skip_special_tokens)");
        }
        checks.Batch(golden.GetProperty("batch_padding_true_truncation_true"), tokenizer.Call(texts, padding: true, truncation: true),
            "batch padding=True truncation=True", rowsAreBatch: true);
        checks.Batch(golden.GetProperty("batch_padding_max_length_16_truncation_true"),
            tokenizer.Call(texts, padding: PaddingStrategy.MaxLength, truncation: true, maxLength: 16),
            "batch padding=max_length max_length=16 truncation=True", rowsAreBatch: true);

        var pair = golden.GetProperty("pair");
        string first = pair.GetProperty("text").GetString()!, second = pair.GetProperty("text_pair").GetString()!;
        var pairEncoding = tokenizer.Call([first], [second], truncation: true);
        checks.Batch(pair.GetProperty("truncation_true"), pairEncoding, "pair truncation=True", rowsAreBatch: true);
        checks.Equal(pair.GetProperty("tokens").Strings(), tokenizer.ConvertIdsToTokens(pairEncoding.InputIds[0]), "pair tokens");
        checks.Batch(pair.GetProperty("padding_max_length_16_truncation_true"),
            tokenizer.Call([first], [second], padding: PaddingStrategy.MaxLength, truncation: true, maxLength: 16),
            "pair padding=max_length max_length=16 truncation=True", rowsAreBatch: true);

        var pairBatch = golden.GetProperty("pair_batch");
        checks.Batch(pairBatch.GetProperty("padding_true_truncation_true"),
            tokenizer.Call(pairBatch.GetProperty("text").Strings(), pairBatch.GetProperty("text_pair").Strings(), padding: true, truncation: true),
            "pair batch padding=True truncation=True", rowsAreBatch: true);
        checks.AssertAll();
    }
}
