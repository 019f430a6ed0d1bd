using Sharpformers.Models;
using Sharpformers.Nn.Optim;
using Sharpformers.TestSupport;
using Sharpformers.Tokenizers;
using Sharpformers.Training.Data;
using Sharpformers.Training.Evaluation;
using Sharpformers.Utils;

namespace Sharpformers.Training.Tests.Trainer;

/// <summary>
/// The real DistilBERT through the Trainer with dropout on and a seeded shuffle: a run stopped at
/// step 32 and resumed from its checkpoint in a new process-like setting (fresh model, fresh
/// Trainer) continues with exactly the losses — unrounded, bit for bit — and weights of the
/// uninterrupted run.
/// </summary>
public sealed class ModelResumeTests
{
    private static (LossRecordingModel Model, SequenceClassificationModel Inner) Load()
    {
        var inner = AutoModelForSequenceClassification.FromPretrained(Fixtures.Model("tiny-distilbert"), new FromPretrainedOptions { Log = _ => { } });
        return (new LossRecordingModel(new TrainableSequenceClassificationModel(inner)), inner);
    }

    private static Sharpformers.Training.Trainer MakeTrainer(ITrainableModel model, string outputDir, Dataset data, PreTrainedTokenizer tokenizer, TrainerCallback? extra = null) =>
        new(model, new TrainingArguments
        {
            OutputDir = outputDir, LearningRate = 1e-3, PerDeviceTrainBatchSize = 16, MaxSteps = 64, WarmupSteps = 10, WeightDecay = 0.01,
            LoggingSteps = 8, SaveSteps = 32, Seed = 3, DisableTqdm = true,
        }, data, dataCollator: new DataCollatorWithPadding(tokenizer), computeMetrics: ClassificationMetrics.AccuracyAndF1(),
            callbacks: extra is null ? [new PrinterCallback(TextWriter.Null)] : [extra, new PrinterCallback(TextWriter.Null)]);

    [Fact]
    public void StoppedAndResumedRunEqualsTheUninterruptedOneBitForBit()
    {
        using var dir = new TempDirectory();
        var tokenizer = AutoTokenizer.FromPretrained(Fixtures.Model("tiny-distilbert"));
        var data = DataSource.Load(Fixtures.Dataset("sst2/train-first-512.tsv"))
            .Map(batch => tokenizer.Call(batch.Column<string>("text"), truncation: true), batched: true, removeColumns: ["text"]);

        var (full, fullInner) = Load();
        using (fullInner) MakeTrainer(full, dir.Combine("full"), data, tokenizer).Train();
        Assert.Equal(64, full.Losses.Count);

        var (stopped, stoppedInner) = Load();
        using (stoppedInner) MakeTrainer(stopped, dir.Combine("stopped"), data, tokenizer, new StopAtStep(32)).Train();
        Assert.Equal(full.Losses.Take(32), stopped.Losses);
        Assert.True(Directory.Exists(dir.Combine("stopped", "checkpoint-32")));
        Assert.False(Directory.Exists(dir.Combine("stopped", "checkpoint-64")));

        var (resumed, resumedInner) = Load();
        using (resumedInner)
        {
            var result = MakeTrainer(resumed, dir.Combine("stopped"), data, tokenizer).Train(resumeFromCheckpoint: "last");
            Assert.Equal(64, result.GlobalStep);
        }
        Assert.Equal(full.Losses.Skip(32), resumed.Losses);
        using var a = AutoModelForSequenceClassification.FromPretrained(dir.Combine("full", "checkpoint-64"));
        using var b = AutoModelForSequenceClassification.FromPretrained(dir.Combine("stopped", "checkpoint-64"));
        foreach (var (p, q) in a.Parameters.Zip(b.Parameters)) Assert.Equal(p.Value.Span.ToArray(), q.Value.Span.ToArray());
    }

    [Fact]
    public void DropoutIsActiveInTrainingModeAndSeededByTheGenerator()
    {
        var tokenizer = AutoTokenizer.FromPretrained(Fixtures.Model("tiny-distilbert"));
        var data = DataSource.Load(Fixtures.Dataset("sst2/train-first-512.tsv"))
            .Map(batch => tokenizer.Call(batch.Column<string>("text"), truncation: true), batched: true, removeColumns: ["text"]);
        var batch = new DataCollatorWithPadding(tokenizer).Collate(data, Enumerable.Range(0, 16).ToArray());
        var (model, inner) = Load();
        using (inner)
        {
            float first = model.Forward(batch, training: true, new SeededRandom(1)).Loss!.Value;
            float again = model.Forward(batch, training: true, new SeededRandom(1)).Loss!.Value;
            float other = model.Forward(batch, training: true, new SeededRandom(2)).Loss!.Value;
            float inference = model.Forward(batch, training: false, null).Loss!.Value;
            float withoutGenerator = model.Forward(batch, training: true, null).Loss!.Value;
            Assert.Equal(first, again);
            Assert.NotEqual(first, other);
            Assert.NotEqual(first, inference);
            Assert.Equal(inference, withoutGenerator, 1e-6f);
        }
    }
}
