using Sharpformers.Models.Configuration;
using Sharpformers.Nn;
using Sharpformers.Tensors;
using Sharpformers.Utils;

namespace Sharpformers.Models;

/// <summary>HF's MaskedLMOutput.</summary>
public sealed class MaskedLMOutput
{
    /// <summary>Mean cross-entropy over the positions whose label is not -100, when labels were given.</summary>
    public float? Loss { get; init; }

    /// <summary>
    /// Vocabulary scores before softmax: (B, T, V) from <see cref="MaskedLMModel.Forward(ModelInputs, IntTensor?, bool?, bool?)"/>;
    /// (N, V) for only the N labelled positions (in (b, t) order) from
    /// <see cref="MaskedLMModel.PredictLabelled"/>; null from a training forward, whose head keeps
    /// the softmax for backward instead.
    /// </summary>
    public Tensor? Logits { get; init; }

    /// <summary>Number of positions the loss averages over (labels other than -100).</summary>
    public int NumPredicted { get; init; }

    public IReadOnlyList<Tensor>? HiddenStates { get; init; }

    public IReadOnlyList<Tensor>? Attentions { get; init; }
}

/// <summary>
/// An encoder with a masked-language-modelling head (what AutoModelForMaskedLM returns): a
/// transform (dense → activation → LayerNorm) and a decoder onto the vocabulary whose weight is the
/// word-embedding table (tied, as transformers ties it) with its own bias. Training computes the
/// vocabulary logits only at the labelled (masked) positions, so the V-wide projection costs the
/// masked fraction of the tokens; the loss is the mean cross-entropy over those positions, as HF's.
/// </summary>
public abstract class MaskedLMModel(PretrainedConfig config, ParameterBuilder builder) : PreTrainedModel(config, builder)
{
    /// <summary>Vocabulary size (the decoder's output width).</summary>
    public int VocabSize => Head.Decoder.OutFeatures;

    /// <summary>Whether this architecture has backward passes.</summary>
    public virtual bool SupportsTraining => true;

    /// <summary>The encoder under the head (transformers' base_model): its inference pass, training forward and backward.</summary>
    private protected abstract EncoderModel BaseEncoder { get; }

    private protected abstract MaskedLMHead Head { get; }

    /// <summary>
    /// model(**inputs, labels=labels): logits (B, T, V) for every position, and the mean
    /// cross-entropy over labels other than -100 (NaN when every label is -100, as torch).
    /// </summary>
    public MaskedLMOutput Forward(ModelInputs inputs, IntTensor? labels = null, bool? outputAttentions = null, bool? outputHiddenStates = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var (attentions, hidden) = OutputSwitches(outputAttentions, outputHiddenStates);
        var arena = RentArena();
        try
        {
            var pass = BaseEncoder.Run(inputs, arena, attentions, hidden, firstTokensOnly: false, InferencePrecision);
            int rows = pass.Batch * pass.Seq;
            CheckLabels(labels, pass.Batch, pass.Seq);
            var logits = Tensor.Uninitialized(pass.Batch, pass.Seq, VocabSize);        // (B, T, V)
            Head.Forward(pass.LastHidden, rows, logits.Memory, arena);
            float? loss = labels is null ? null : Losses.CrossEntropy(logits.Span, VocabSize, labels.Span);
            return new MaskedLMOutput
            {
                Loss = loss, Logits = logits, NumPredicted = labels is null ? 0 : CountLabelled(labels.Span),
                HiddenStates = pass.HiddenStates, Attentions = pass.Attentions,
            };
        }
        finally
        {
            ReturnArena(arena);
            GC.KeepAlive(this);
        }
    }

    /// <summary>A tokenizer's output straight in, as <c>model(**inputs)</c>.</summary>
    public MaskedLMOutput Forward(Tokenizers.BatchEncoding inputs, IntTensor? labels = null) => Forward(ModelInputs.FromBatchEncoding(inputs), labels);

    /// <summary>
    /// The inference forward evaluated only where it is scored: logits (N, V) at the N positions
    /// whose label is not -100 and the mean cross-entropy there (0 when there are none) — what an
    /// evaluation needs, without the (B, T, V) logits of <see cref="Forward(ModelInputs, IntTensor?, bool?, bool?)"/>.
    /// </summary>
    public MaskedLMOutput PredictLabelled(ModelInputs inputs, IntTensor labels, bool keepLogits = true)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(labels);
        var arena = RentArena();
        try
        {
            var pass = BaseEncoder.Run(inputs, arena, outputAttentions: false, outputHiddenStates: false, firstTokensOnly: false, InferencePrecision);
            CheckLabels(labels, pass.Batch, pass.Seq);
            var (positions, targets) = Labelled(labels.Span);
            if (positions.Length == 0) return new MaskedLMOutput { Loss = 0f, Logits = keepLogits ? Tensor.Zeros(0, VocabSize) : null };
            var rows = arena.Take(positions.Length * pass.Hidden);                    // (N, C)
            GatherRows(pass.LastHidden.Span, pass.Hidden, positions, rows.Span);
            var logits = Tensor.Uninitialized(positions.Length, VocabSize);            // (N, V)
            Head.Forward(rows, positions.Length, logits.Memory, arena);
            var probabilities = keepLogits ? arena.Take(logits.Length) : logits.Memory;
            if (keepLogits) logits.Span.CopyTo(probabilities.Span);
            float loss = Losses.SoftmaxCrossEntropyInPlace(probabilities, VocabSize, targets);
            return new MaskedLMOutput { Loss = loss, Logits = keepLogits ? logits : null, NumPredicted = positions.Length };
        }
        finally
        {
            ReturnArena(arena);
            GC.KeepAlive(this);
        }
    }

    /// <summary>
    /// The training-mode forward (model.train(); model(**inputs, labels=labels)): dropout from
    /// <paramref name="dropoutRandom"/> when given, everything backward needs kept, the head run
    /// only at the labelled positions. Returns the loss (0 when no position is labelled); the
    /// softmax stays in the model for <see cref="Backward"/>. Not thread-safe.
    /// </summary>
    public MaskedLMOutput TrainingForward(ModelInputs inputs, IntTensor labels, SeededRandom? dropoutRandom = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(labels);
        if (!SupportsTraining) throw new NotSupportedException($"Training {ClassName} is not implemented yet.");
        EnableGradients();
        var workspace = Training;
        workspace.Pending = null;
        workspace.Forward.Reset();
        try
        {
            var arena = workspace.Forward;
            var pass = BaseEncoder.TrainForward(inputs, arena, dropoutRandom);
            CheckLabels(labels, pass.Batch, pass.Seq);
            var (positions, targets) = Labelled(labels.Span);
            int n = positions.Length, c = pass.Hidden;
            var rows = arena.Take(n * c);                                              // (N, C) hidden states at the labelled positions
            GatherRows(pass.LastHidden.Span, c, positions, rows.Span);
            var head = Head.TrainForward(rows, n, arena);
            float loss = Losses.SoftmaxCrossEntropyInPlace(head.Logits, VocabSize, targets); // head.Logits now holds the softmax
            workspace.Pending = new MaskedLMCache(pass, positions, targets, head);
            return new MaskedLMOutput { Loss = loss, NumPredicted = n };
        }
        finally
        {
            GC.KeepAlive(this);
        }
    }

    /// <summary>
    /// loss.backward() for the last <see cref="TrainingForward"/>, scaled by <paramref name="lossScale"/>:
    /// adds into every trainable parameter's gradient (the tied word embeddings get the decoder's
    /// share and the lookup's). Each training forward can be differentiated once.
    /// </summary>
    public void Backward(float lossScale = 1f)
    {
        var workspace = Training;
        if (workspace.Pending is not MaskedLMCache cache)
        {
            throw new InvalidOperationException("Backward needs a TrainingForward first; each training forward can be differentiated once.");
        }
        workspace.Pending = null;
        workspace.Backward.Reset();
        int n = cache.Positions.Length;
        if (n == 0) return;                                                            // nothing predicted: the loss is a constant 0
        var pass = cache.Pass;
        int c = pass.Hidden;
        var arena = workspace.Backward;
        Losses.SoftmaxCrossEntropyBackwardInPlace(cache.Head.Logits, VocabSize, cache.Targets, lossScale); // (N, V) dLogits
        var dRows = arena.Take(n * c);                                                 // (N, C)
        Head.Backward(cache.Head, cache.Head.Logits, dRows, arena);
        var dHidden = arena.TakeZeroed(pass.Batch * pass.Seq * c);                    // (B, T, C)
        var dHiddenSpan = dHidden.Span;
        for (int i = 0; i < n; i++) dRows.Span.Slice(i * c, c).CopyTo(dHiddenSpan.Slice(cache.Positions[i] * c, c));
        BaseEncoder.Backward(pass, dHidden, workspace);
        GC.KeepAlive(this);
    }

    /// <summary>The flat (b·T + t) positions whose label is not -100, and their labels.</summary>
    private (int[] Positions, int[] Targets) Labelled(ReadOnlySpan<int> labels)
    {
        int count = CountLabelled(labels);
        var positions = new int[count];
        var targets = new int[count];
        int k = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            int label = labels[i];
            if (label == Losses.IgnoreIndex) continue;
            if ((uint)label >= (uint)VocabSize)
            {
                throw new ArgumentException($"labels: {label} at position {i} is neither -100 nor a token id of the vocabulary of {VocabSize}.", "labels");
            }
            positions[k] = i;
            targets[k++] = label;
        }
        return (positions, targets);
    }

    private static int CountLabelled(ReadOnlySpan<int> labels)
    {
        int count = 0;
        foreach (int label in labels) if (label != Losses.IgnoreIndex) count++;
        return count;
    }

    private static void CheckLabels(IntTensor? labels, int batch, int seq)
    {
        if (labels is not null && (labels.Rank != 2 || labels.Shape[0] != batch || labels.Shape[1] != seq))
        {
            throw new ArgumentException($"labels must be (batch, sequence) = ({batch}, {seq}) token ids or -100; got shape [{string.Join(", ", labels.Shape)}].", nameof(labels));
        }
    }

    private static void GatherRows(ReadOnlySpan<float> hidden, int c, ReadOnlySpan<int> positions, Span<float> rows)
    {
        for (int i = 0; i < positions.Length; i++) hidden.Slice(positions[i] * c, c).CopyTo(rows.Slice(i * c, c));
    }

    private sealed record MaskedLMCache(EncoderTrainingPass Pass, int[] Positions, int[] Targets, MaskedLMHeadActivations Head);
}

/// <summary>
/// The masked-LM prediction head: dense (C → C) → activation → LayerNorm → decoder (C → V) whose
/// weight is an existing parameter (the word embeddings) and whose bias is the head's own.
/// transformers' DistilBERT calls these vocab_transform / activation / vocab_layer_norm /
/// vocab_projector, BERT cls.predictions.transform.dense / transform_act_fn / transform.LayerNorm /
/// decoder + cls.predictions.bias.
/// </summary>
internal sealed class MaskedLMHead(Linear transform, ActivationFunction activation, LayerNorm layerNorm, Linear decoder)
{
    public Linear Transform { get; } = transform;

    public ActivationFunction Activation { get; } = activation;

    public LayerNorm LayerNorm { get; } = layerNorm;

    public Linear Decoder { get; } = decoder;

    /// <summary>logits (N, V) from hidden rows (N, C), inference.</summary>
    public void Forward(ReadOnlyMemory<float> hidden, int rows, Memory<float> logits, ActivationArena arena)
    {
        int c = Transform.InFeatures;
        var x = arena.Take(rows * c);                                                  // (N, C)
        Transform.Forward(hidden.Span[..(rows * c)], x.Span);
        Activation.Apply(x, x);
        LayerNorm.Forward(x, x, Memory<float>.Empty, Memory<float>.Empty);
        Decoder.Forward(x.Span, logits.Span);
    }

    /// <summary>The training forward over rows (N, C), keeping what backward needs.</summary>
    public MaskedLMHeadActivations TrainForward(Memory<float> rows, int n, ActivationArena arena)
    {
        int c = Transform.InFeatures;
        var pre = arena.Take(n * c);                                                   // (N, C) dense output
        Transform.Forward(rows.Span, pre.Span);
        var activated = arena.Take(n * c);                                             // (N, C)
        Activation.Apply(pre, activated);
        var normed = arena.Take(n * c);                                                // (N, C)
        var mean = arena.Take(n);                                                      // (N)
        var rstd = arena.Take(n);                                                      // (N)
        LayerNorm.Forward(activated, normed, mean, rstd);
        var logits = arena.Take(n * Decoder.OutFeatures);                             // (N, V)
        Decoder.Forward(normed.Span, logits.Span);
        return new MaskedLMHeadActivations(rows, pre, activated, normed, mean, rstd, logits);
    }

    /// <summary>From dLogits (N, V) to dRows (N, C); parameter gradients accumulate (the decoder's weight gradient into the tied table's).</summary>
    public void Backward(MaskedLMHeadActivations a, ReadOnlyMemory<float> dLogits, Memory<float> dRows, ActivationArena arena)
    {
        var d = arena.Take(a.Normed.Length);                                           // (N, C)
        Decoder.Backward(a.Normed, dLogits, d);
        LayerNorm.Backward(a.Activated, a.Mean, a.Rstd, d, d, arena);
        Activation.Backward(a.PreActivation, d, d);
        Transform.Backward(a.Input, d, dRows);
    }
}

/// <summary>What the head kept from a training forward; <see cref="Logits"/> is overwritten by the softmax, then by dLogits.</summary>
internal sealed record MaskedLMHeadActivations(
    Memory<float> Input,          // (N, C)
    Memory<float> PreActivation,  // (N, C)
    Memory<float> Activated,      // (N, C)
    Memory<float> Normed,         // (N, C)
    Memory<float> Mean,           // (N)
    Memory<float> Rstd,           // (N)
    Memory<float> Logits);        // (N, V)
