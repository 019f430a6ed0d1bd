using System.Text;

namespace Sharpformers.Nn;

/// <summary>
/// What loading a checkpoint into a model found, like the warning Hugging Face's from_pretrained logs:
/// parameters the checkpoint lacked (newly initialised), checkpoint weights the model did not use, and
/// weights re-initialised because their shapes differed. Names are as the checkpoint spells them.
/// </summary>
public sealed class WeightLoadReport(
    string? checkpointPath,
    string modelClass,
    IReadOnlyList<string> missingKeys,
    IReadOnlyList<string> unexpectedKeys,
    IReadOnlyList<MismatchedWeight> mismatchedKeys,
    IReadOnlyList<string> missingParameterNames)
{
    /// <summary>The weights file, or null for a model initialised from its config.</summary>
    public string? CheckpointPath { get; } = checkpointPath;

    public string ModelClass { get; } = modelClass;

    /// <summary>Parameters not in the checkpoint, initialised fresh (e.g. a new classification head).</summary>
    public IReadOnlyList<string> MissingKeys { get; } = missingKeys;

    /// <summary>The same parameters as <see cref="MissingKeys"/>, under the model's own state-dict names.</summary>
    public IReadOnlyList<string> MissingParameterNames { get; } = missingParameterNames;

    /// <summary>Checkpoint weights the model has no place for (e.g. a pretraining head).</summary>
    public IReadOnlyList<string> UnexpectedKeys { get; } = unexpectedKeys;

    /// <summary>Parameters re-initialised because the checkpoint's shape differed (IgnoreMismatchedSizes).</summary>
    public IReadOnlyList<MismatchedWeight> MismatchedKeys { get; } = mismatchedKeys;

    public IEnumerable<string> NewlyInitialized => MissingKeys.Concat(MismatchedKeys.Select(m => m.Name));

    public bool IsExactMatch => MissingKeys.Count == 0 && UnexpectedKeys.Count == 0 && MismatchedKeys.Count == 0;

    /// <summary>HF's warning text, or null when every weight matched.</summary>
    public string? Warning
    {
        get
        {
            if (IsExactMatch || CheckpointPath is null) return null;
            var sb = new StringBuilder();
            if (UnexpectedKeys.Count > 0)
            {
                sb.Append($"Some weights of the model checkpoint at {CheckpointPath} were not used when initializing {ModelClass}: {PythonList(UnexpectedKeys)}\n");
                sb.Append($"- This IS expected if you are initializing {ModelClass} from the checkpoint of a model trained on another task or with another architecture (e.g. initializing a BertForSequenceClassification model from a BertForPreTraining model).\n");
                sb.Append($"- This IS NOT expected if you are initializing {ModelClass} from the checkpoint of a model that you expect to be exactly identical (initializing a BertForSequenceClassification model from a BertForSequenceClassification model).\n");
            }
            if (MissingKeys.Count > 0)
            {
                sb.Append($"Some weights of {ModelClass} were not initialized from the model checkpoint at {CheckpointPath} and are newly initialized: {PythonList(MissingKeys)}\n");
            }
            if (MismatchedKeys.Count > 0)
            {
                sb.Append($"Some weights of {ModelClass} were not initialized from the model checkpoint at {CheckpointPath} and are newly initialized because the shapes did not match:\n");
                foreach (var m in MismatchedKeys)
                {
                    sb.Append($"- {m.Name}: found shape [{string.Join(", ", m.CheckpointShape)}] in the checkpoint and [{string.Join(", ", m.ModelShape)}] in the model instantiated\n");
                }
            }
            if (MissingKeys.Count > 0 || MismatchedKeys.Count > 0)
            {
                sb.Append("You should probably TRAIN this model on a down-stream task to be able to use it for predictions and inference.\n");
            }
            return sb.ToString().TrimEnd('\n');
        }
    }

    private static string PythonList(IEnumerable<string> names) => "[" + string.Join(", ", names.Select(n => $"'{n}'")) + "]";
}
