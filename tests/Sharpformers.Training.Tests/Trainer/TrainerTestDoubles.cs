using Sharpformers.Nn.Optim;
using Sharpformers.Training.Data;
using Sharpformers.Utils;

namespace Sharpformers.Training.Tests.Trainer;

/// <summary>Wraps a trainable model and records the exact loss of every training micro-batch.</summary>
internal sealed class LossRecordingModel(ITrainableModel inner) : ITrainableModel
{
    public List<float> Losses { get; } = [];

    public IReadOnlyList<ITrainableParameter> Parameters => inner.Parameters;

    public int NumLabels => inner.NumLabels;

    public ModelOutput Forward(CollatedBatch batch, bool training, SeededRandom? dropoutRandom)
    {
        var output = inner.Forward(batch, training, dropoutRandom);
        if (training) Losses.Add(output.Loss!.Value);
        return output;
    }

    public void Backward(float lossScale) => inner.Backward(lossScale);

    public void SavePretrained(string directory) => inner.SavePretrained(directory);

    public void LoadWeights(string directory) => inner.LoadWeights(directory);
}

/// <summary>Stops training at the end of a given global step (a run "killed" right after a checkpoint).</summary>
internal sealed class StopAtStep(int step) : TrainerCallback
{
    public override void OnStepEnd(TrainingArguments args, TrainerState state, TrainerControl control, TrainerCallbackContext context)
    {
        if (state.GlobalStep == step) control.ShouldTrainingStop = true;
    }
}
