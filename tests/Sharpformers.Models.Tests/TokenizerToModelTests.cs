using Sharpformers.Tokenizers;
using Sharpformers.TestSupport;

namespace Sharpformers.Models.Tests;

/// <summary>The course's manual path: tokenizer(texts, padding, truncation) → model(**inputs) → logits, as the goldens computed it.</summary>
public sealed class TokenizerToModelTests
{
    [Theory]
    [InlineData("tiny-bert")]
    [InlineData("tiny-distilbert")]
    [InlineData("tiny-roberta")]
    [InlineData("tiny-xlm-roberta")]
    [InlineData("tiny-electra")]
    [InlineData("tiny-albert")]
    [InlineData("tiny-deberta-v2")]
    public void BatchEncodingGoesStraightIntoTheModel(string name)
    {
        var golden = Goldens.Load(name);
        var tokenizer = AutoTokenizer.FromPretrained(Fixtures.Model(name));
        using var model = AutoModelForSequenceClassification.FromPretrained(Fixtures.Model(name));
        var inputs = tokenizer.Call(golden.GetProperty("texts").Strings(), padding: true, truncation: true);
        var output = model.Forward(inputs);
        GoldenInputs.AssertTensor(golden.At("sequence_classification.batch.logits"), output.Logits, $"{name} tokenizer→model logits");
        var labels = output.Logits.Softmax(dim: -1).ArgMax(dim: -1).ToArray().Select(i => model.Config.Id2Label[i]);
        Assert.Equal(golden.At("sequence_classification.batch.argmax_labels").Strings(), labels);
    }

    [Fact]
    public void RaggedEncodingsAskForPadding()
    {
        var tokenizer = AutoTokenizer.FromPretrained(Fixtures.Model("tiny-distilbert"));
        using var model = AutoModelForSequenceClassification.FromPretrained(Fixtures.Model("tiny-distilbert"));
        var ex = Assert.Throws<ArgumentException>(() => model.Forward(tokenizer.Call(["a b c", "a"])));
        Assert.Contains("encode with padding: true", ex.Message);
    }
}
