using Sharpformers.Models;
using Sharpformers.Nn;
using Sharpformers.Nn.Optim;
using Sharpformers.Tensors;
using Sharpformers.Training.Data;
using Sharpformers.Utils;

namespace Sharpformers.Training;

/// <summary>
/// A <see cref="SequenceClassificationModel"/> (BERT, DistilBERT) as the Trainer's
/// <see cref="ITrainableModel"/>: padded batches become <see cref="ModelInputs"/> without copying,
/// training-mode batches run <see cref="SequenceClassificationModel.TrainingForward"/> and
/// <see cref="SequenceClassificationModel.Backward"/>, evaluation batches the inference forward.
/// Parameters are the model's trainable ones, in named_parameters() order, over the model's own
/// weights and gradient buffers (nothing is copied per step). An architecture without backward
/// passes can still be evaluated (no parameters; a training forward says it cannot train).
/// </summary>
public sealed class TrainableSequenceClassificationModel : ITrainableModel
{
    public TrainableSequenceClassificationModel(SequenceClassificationModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        Model = model;
        if (model.SupportsTraining)
        {
            model.EnableGradients();
            Parameters = model.TrainableParameters.Select(p => (ITrainableParameter)new ParameterView(p)).ToList();
        }
        else
        {
            Parameters = [];
        }
    }

    public SequenceClassificationModel Model { get; }

    public IReadOnlyList<ITrainableParameter> Parameters { get; }

    public int NumLabels => Model.NumLabels;

    public ModelOutput Forward(CollatedBatch batch, bool training, SeededRandom? dropoutRandom)
    {
        ArgumentNullException.ThrowIfNull(batch);
        int b = batch.BatchSize, t = batch.SequenceLength;
        var inputs = new ModelInputs
        {
            InputIds = new IntTensor(batch.InputIds, b, t),
            AttentionMask = new IntTensor(batch.AttentionMask, b, t),
            TokenTypeIds = batch.TokenTypeIds is { } types ? new IntTensor(types, b, t) : null,
        };
        ITensor? labels = batch.Labels is { } ids ? new IntTensor(ids, b)
            : batch.FloatLabels is { } targets ? new Tensor(targets, targets.Length == b ? [b] : [b, targets.Length / b])
            : null;
        var output = training ? Model.TrainingForward(inputs, labels, dropoutRandom) : Model.Forward(inputs, labels);
        return new ModelOutput(output.Loss, output.Logits.ToArray());
    }

    public void Backward(float lossScale) => Model.Backward(lossScale);

    public void SavePretrained(string directory) => Model.SavePretrained(directory);

    public void LoadWeights(string directory) => Model.LoadWeights(directory);

    /// <summary>A model parameter as the optimizer's <see cref="ITrainableParameter"/>, over its own value and gradient buffers.</summary>
    internal sealed class ParameterView(Parameter parameter) : ITrainableParameter
    {
        public string Name => parameter.Name;

        public Span<float> Value => parameter.Value.Span;

        public Span<float> Gradient => parameter.Grad!.Span;

        public override string ToString() => parameter.ToString();
    }
}

/// <summary>Turns a model into the Trainer's model interface.</summary>
public static class TrainableModelExtensions
{
    public static ITrainableModel AsTrainable(this SequenceClassificationModel model) => new TrainableSequenceClassificationModel(model);

    public static ITrainableModel AsTrainable(this MaskedLMModel model) => new TrainableMaskedLMModel(model);
}
