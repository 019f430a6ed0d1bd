using System.Text.Json;
using Sharpformers.TestSupport;

namespace Sharpformers.Tokenizers.Tests;

/// <summary>
/// llama.cpp's tokenizer test vectors (tests/fixtures/tokenizer-cases). How the files pair up: the .inp file
/// is split on "\n__ggml_vocab_test__\n", which leaves one empty piece after the final separator; the .out
/// file is split on "\n", which leaves one empty piece after the final newline. Dropping that trailing empty
/// piece of each gives 46 strings and 46 lines; line i holds the ids of string i (add_special_tokens=False),
/// each id preceded by a space, and an empty line for a string with no tokens.
/// </summary>
public sealed class TokenizerCaseTests
{
    public static TheoryData<string, string, bool> Cases() => new()
    {
        { "bert-bge", "bert-base-uncased", false },
        { "bert-bge", "bert-base-uncased", true },
        { "gpt-2", "gpt2", false },
        { "roberta-bpe", "roberta-base", false },
    };

    internal static List<(string Text, int[] Ids)> Read(string name)
    {
        string input = File.ReadAllText(Fixtures.TokenizerCase($"ggml-vocab-{name}.gguf.inp"));
        string output = File.ReadAllText(Fixtures.TokenizerCase($"ggml-vocab-{name}.gguf.out"));
        var texts = input.Split("\n__ggml_vocab_test__\n");
        var lines = output.Split('\n');
        Assert.Equal("", texts[^1]);
        Assert.Equal("", lines[^1]);
        Assert.Equal(texts.Length, lines.Length);
        var cases = new List<(string, int[])>();
        for (int i = 0; i < texts.Length - 1; i++)
        {
            var ids = lines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
            cases.Add((texts[i], ids));
        }
        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void IdsMatch(string caseName, string vocab, bool useFast)
    {
        var cases = Read(caseName);
        Assert.Equal(46, cases.Count);
        var tokenizer = AutoTokenizer.FromPretrained(Fixtures.Vocab(vocab), new TokenizerLoadOptions { UseFast = useFast });
        var checks = new GoldenChecks($"{caseName} with {vocab}{(useFast ? " (tokenizer.json)" : "")}");
        for (int i = 0; i < cases.Count; i++)
        {
            var (text, ids) = cases[i];
            checks.Equal(ids, tokenizer.Encode(text, addSpecialTokens: false), $"case {i} {JsonSerializer.Serialize(text)}");
        }
        checks.AssertAll();
    }
}
