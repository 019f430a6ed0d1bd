using Sharpformers.Models;
using Sharpformers.Nn.Optim;
using Sharpformers.Tensors;
using Sharpformers.Training.Data;
using Sharpformers.Utils;

namespace Sharpformers.Training;

/// <summary>
/// A <see cref="MaskedLMModel"/> (BERT, DistilBERT) as the Trainer's <see cref="ITrainableModel"/>,
/// for batches from <see cref="DataCollatorForLanguageModeling"/> (labels (B, T), -100 where nothing
/// is predicted). Training batches run <see cref="MaskedLMModel.TrainingForward"/>, evaluation
/// batches <see cref="MaskedLMModel.PredictLabelled"/>: both compute vocabulary logits only at the
/// masked positions and return the loss alone (no logits: an evaluation reports eval_loss, from
/// which perplexity = exp(eval_loss), as run_mlm).
/// </summary>
public sealed class TrainableMaskedLMModel : ITrainableModel
{
    public TrainableMaskedLMModel(MaskedLMModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        Model = model;
        model.EnableGradients();
        Parameters = model.TrainableParameters
            .Select(p => (ITrainableParameter)new TrainableSequenceClassificationModel.ParameterView(p)).ToList();
    }

    public MaskedLMModel Model { get; }

    public IReadOnlyList<ITrainableParameter> Parameters { get; }

    /// <summary>0: a masked-LM evaluation produces no per-example logits.</summary>
    public int NumLabels => 0;

    public ModelOutput Forward(CollatedBatch batch, bool training, SeededRandom? dropoutRandom)
    {
        ArgumentNullException.ThrowIfNull(batch);
        int b = batch.BatchSize, t = batch.SequenceLength;
        var ids = batch.Labels is { } l && l.Length == b * t ? l
            : throw new InvalidOperationException("A masked-LM batch needs labels of shape (batch, sequence): collate it with DataCollatorForLanguageModeling.");
        var inputs = new ModelInputs
        {
            InputIds = new IntTensor(batch.InputIds, b, t),
            AttentionMask = new IntTensor(batch.AttentionMask, b, t),
            TokenTypeIds = batch.TokenTypeIds is { } types ? new IntTensor(types, b, t) : null,
        };
        var labels = new IntTensor(ids, b, t);
        var output = training ? Model.TrainingForward(inputs, labels, dropoutRandom) : Model.PredictLabelled(inputs, labels, keepLogits: false);
        return new ModelOutput(output.Loss, []);
    }

    public void Backward(float lossScale) => Model.Backward(lossScale);

    public void SavePretrained(string directory) => Model.SavePretrained(directory);

    public void LoadWeights(string directory) => Model.LoadWeights(directory);
}
