using Sharpformers.Models;
using Sharpformers.Models.DistilBert;
using Sharpformers.Nn.Optim;
using Sharpformers.TestSupport;
using Sharpformers.Tokenizers;
using Sharpformers.Training.Data;
using Sharpformers.Utils;

namespace Sharpformers.Training.Tests.Trainer;

/// <summary>
/// Masked-LM pretraining through the Trainer: the loss falls, evaluation reports eval_loss only,
/// and a run stopped at a checkpoint and resumed continues with exactly the uninterrupted run's
/// losses — the collator's masking generator is checkpointed with the dropout one.
/// </summary>
public sealed class MaskedLMTrainerTests
{
    private static (LossRecordingModel Model, MaskedLMModel Inner) NewModel()
    {
        // tiny-distilbert's shape with its own vocabulary (1028 tokens), from a seeded random initialisation.
        var config = (DistilBertConfig)Models.Configuration.AutoConfig.FromPretrained(Fixtures.Model("tiny-distilbert"));
        var inner = AutoModelForMaskedLM.FromConfig(config, seed: 5);
        return (new LossRecordingModel(inner.AsTrainable()), inner);
    }

    private static (Dataset Train, Dataset Eval, PreTrainedTokenizer Tokenizer) Data()
    {
        var tokenizer = AutoTokenizer.FromPretrained(Fixtures.Model("tiny-distilbert"));
        var raw = DataSource.Load(Fixtures.Dataset("sst2/train-first-512.tsv")).SelectColumns("text").TrainTestSplit(testSize: 0.1, seed: 1);
        return (LanguageModelingData.GroupTexts(LanguageModelingData.Tokenize(raw["train"], tokenizer), 32),
            LanguageModelingData.GroupTexts(LanguageModelingData.Tokenize(raw["test"], tokenizer), 32), tokenizer);
    }

    private static Sharpformers.Training.Trainer MakeTrainer(ITrainableModel model, string outputDir, Dataset train, Dataset? eval, PreTrainedTokenizer tokenizer,
        int maxSteps, TrainerCallback? extra = null) =>
        new(model, new TrainingArguments
        {
            OutputDir = outputDir, LearningRate = 2e-3, PerDeviceTrainBatchSize = 8, PerDeviceEvalBatchSize = 8, MaxSteps = maxSteps, WarmupSteps = 4,
            WeightDecay = 0.01, LoggingSteps = 4, SaveSteps = 12, Seed = 11, DisableTqdm = true,
            EvalStrategy = eval is null ? IntervalStrategy.No : IntervalStrategy.Steps, EvalSteps = 12,
        }, train, eval, new DataCollatorForLanguageModeling(tokenizer),
            callbacks: extra is null ? [new PrinterCallback(TextWriter.Null)] : [extra, new PrinterCallback(TextWriter.Null)]);

    [Fact]
    public void PretrainingLowersTheLossAndResumesBitForBit()
    {
        using var dir = new TempDirectory();
        var (train, eval, tokenizer) = Data();
        Assert.All(train.Column<int[]>("input_ids"), ids => Assert.Equal(32, ids.Length));

        var (full, fullInner) = NewModel();
        Sharpformers.Training.Trainer trainer;
        using (fullInner)
        {
            trainer = MakeTrainer(full, dir.Combine("full"), train, eval, tokenizer, maxSteps: 36);
            trainer.Train();
        }
        Assert.Equal(36, full.Losses.Count);
        Assert.InRange(full.Losses[0], 6.5f, 7.5f);                                    // ≈ ln(1028) = 6.94 at a random start
        Assert.True(full.Losses.TakeLast(6).Average() < full.Losses.Take(6).Average() - 0.3, string.Join(", ", full.Losses));
        var evals = trainer.State.LogHistory.Where(h => h.ContainsKey("eval_loss")).ToList();
        Assert.Equal(3, evals.Count);
        Assert.DoesNotContain(evals[0].Keys, k => k.Contains("accuracy", StringComparison.Ordinal));
        Assert.True(Convert.ToDouble(evals[^1]["eval_loss"]) < Convert.ToDouble(evals[0]["eval_loss"]));
        Assert.True(Convert.ToDouble(evals[0]["eval_samples_per_second"]) > 0);

        // Evaluating twice masks the eval set the same way: the same loss.
        var (again, againInner) = NewModel();
        using (againInner)
        {
            var evaluator = MakeTrainer(again, dir.Combine("eval"), train, eval, tokenizer, maxSteps: 1);
            Assert.Equal(evaluator.Evaluate()["eval_loss"], evaluator.Evaluate()["eval_loss"]);
        }

        var (stopped, stoppedInner) = NewModel();
        using (stoppedInner) MakeTrainer(stopped, dir.Combine("stopped"), train, eval, tokenizer, maxSteps: 36, new StopAtStep(12)).Train();
        Assert.Equal(full.Losses.Take(12), stopped.Losses);
        var (resumed, resumedInner) = NewModel();
        using (resumedInner) MakeTrainer(resumed, dir.Combine("stopped"), train, eval, tokenizer, maxSteps: 36).Train(resumeFromCheckpoint: "last");
        Assert.Equal(full.Losses.Skip(12), resumed.Losses);
        using var a = AutoModelForMaskedLM.FromPretrained(dir.Combine("full", "checkpoint-36"));
        using var b = AutoModelForMaskedLM.FromPretrained(dir.Combine("stopped", "checkpoint-36"));
        foreach (var (p, q) in a.Parameters.Zip(b.Parameters)) Assert.Equal(p.Value.Span.ToArray(), q.Value.Span.ToArray());
        Assert.Contains("data_collator", File.ReadAllText(dir.Combine("stopped", "checkpoint-12", TrainerRngState.FileName)));
    }
}
