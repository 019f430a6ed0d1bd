using Sharpformers.TestSupport;
using Sharpformers.Tokenizers;
using Sharpformers.Training.Data;

namespace Sharpformers.Training.Tests.Data;

/// <summary>The Hugging Face course's data path (chapter 3): load → map(tokenize, batched) → DataCollatorWithPadding.</summary>
public sealed class CourseFlowTests
{
    [Fact]
    public void TokenizeMapAndDynamicPaddingMatchTheTokenizersOwnPadding()
    {
        using var dir = new TempDirectory();
        string file = dir.File("train.tsv",
            "sentence1\tsentence2\tlabel\n" +
            "Amrozi accused his brother , whom he called \" the witness \" , of deliberately distorting his evidence .\tReferring to him as only \" the witness \" , Amrozi accused his brother of deliberately distorting his evidence .\t1\n" +
            "Yucaipa owned Dominick 's before selling the chain to Safeway in 1998 for $ 2.5 billion .\tYucaipa bought Dominick 's in 1995 for $ 693 million and sold it to Safeway for $ 1.8 billion in 1998 .\t0\n" +
            "They had published an advertisement on the Internet on June 10 .\tOn June 10 , the ship 's owners had published an advertisement .\t1\n");
        var tokenizer = AutoTokenizer.FromPretrained(Fixtures.Vocab("bert-base-uncased"));
        var raw = DataFiles.Read(file, new DataFileOptions { LabelColumn = "label" });
        var tokenized = raw.Map(
            batch => tokenizer.Call(batch.Column<string>("sentence1"), batch.Column<string>("sentence2"), truncation: true),
            batched: true);
        // This vocabulary's tokenizer_config names DistilBertTokenizer: no token_type_ids, as in transformers.
        Assert.Equal(["sentence1", "sentence2", "label", "input_ids", "attention_mask"], tokenized.ColumnNames);
        var lengths = tokenized.Column<int[]>("input_ids").Select(ids => ids.Length).ToArray();
        Assert.Equal(3, lengths.Length);
        Assert.NotEqual(lengths.Min(), lengths.Max());

        var collator = new DataCollatorWithPadding(tokenizer);
        var batch = collator.Collate(tokenized, [0, 1, 2]);
        Assert.Equal((3, lengths.Max()), (batch.BatchSize, batch.SequenceLength));
        var reference = tokenizer.Call(raw.Column<string>("sentence1").ToList(), raw.Column<string>("sentence2").ToList(), padding: true, truncation: true);
        Assert.Equal(BatchEncoding.Flatten(reference.InputIds), batch.InputIds);
        Assert.Equal(BatchEncoding.Flatten(reference.AttentionMask), batch.AttentionMask);
        Assert.Null(batch.TokenTypeIds);
        var withTypes = tokenized.AddColumn("token_type_ids", tokenized.Column<int[]>("input_ids").Select(ids => ids.Select((_, i) => i % 2).ToArray()).ToArray());
        Assert.Equal([0, 1, 0], collator.Collate(withTypes, [0])!.TokenTypeIds!.Take(3));
        Assert.Equal([1, 0, 1], batch.Labels!);
        Assert.Equal(101, batch.InputIds[0]);
    }

    [Fact]
    public void DistilBertTokenizerHasNoTokenTypeIdsAndPadsWithItsPadId()
    {
        var tokenizer = AutoTokenizer.FromPretrained(Fixtures.Model("tiny-distilbert"));
        var raw = Dataset.FromDict(new Dictionary<string, System.Collections.IList>
        {
            ["text"] = new[] { "a short one", "a much longer sentence than the first one here" },
            ["label"] = new[] { 1, 0 },
        });
        var tokenized = raw.Map(batch => tokenizer.Call(batch.Column<string>("text"), truncation: true, maxLength: 8), batched: true, removeColumns: ["text"]);
        Assert.Equal(["label", "input_ids", "attention_mask"], tokenized.ColumnNames);
        Assert.Equal(8, tokenized[1].Get<int[]>("input_ids").Length);
        var batch = new DataCollatorWithPadding(tokenizer) { PadToMultipleOf = 16 }.Collate(tokenized, [0, 1]);
        Assert.Equal(16, batch.SequenceLength);
        Assert.Null(batch.TokenTypeIds);
        Assert.Equal(tokenizer.PadTokenId!.Value, batch.InputIds[^1]);
    }
}
