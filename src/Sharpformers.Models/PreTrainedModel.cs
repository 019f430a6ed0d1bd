using System.Collections.Concurrent;
using Sharpformers.Kernels;
using Sharpformers.Models.Configuration;
using Sharpformers.Nn;
using Sharpformers.Nn.Inference;
using Sharpformers.Tensors;
using Sharpformers.Tensors.Formats;
using Sharpformers.Tokenizers;
using Sharpformers.Utils;

namespace Sharpformers.Models;

/// <summary>
/// What every model shares, as transformers' PreTrainedModel: its config, its parameters by state-dict
/// name, the report of how its checkpoint loaded, and <see cref="SavePretrained"/>. A model loaded
/// from safetensors maps its weights from the file; dispose it to unmap them.
/// </summary>
public abstract class PreTrainedModel : IDisposable
{
    private readonly ConcurrentBag<ActivationArena> arenas = [];
    private ICheckpointReader? checkpoint;
    private TrainingWorkspace? training;

    private readonly ParameterCollection allParameters;
    private readonly string prefix;

    protected PreTrainedModel(PretrainedConfig config, ParameterBuilder builder)
    {
        Config = config;
        allParameters = builder.Parameters;
        prefix = builder.CurrentPrefix.Length == 0 ? "" : builder.CurrentPrefix + ".";
    }

    public PretrainedConfig Config { get; }

    /// <summary>
    /// Every parameter by its state-dict name, in torch's named_parameters() order. A model nested in
    /// another (the "bert" inside BertForSequenceClassification) lists only its own.
    /// </summary>
    public ParameterCollection Parameters => prefix.Length == 0 ? allParameters : allParameters.Subset(prefix);

    /// <summary>
    /// How inference passes multiply by the encoder's linear layers: <see cref="InferencePrecision.Float32"/>
    /// (default) or opt-in dynamic <see cref="InferencePrecision.Int8"/> quantization (torch's
    /// quantize_dynamic). Either way the weights are packed once, on the first pass, and repacked when
    /// they change; training forwards are not affected.
    /// </summary>
    public InferencePrecision InferencePrecision { get; set; } = InferencePrecision.Float32;

    /// <summary>How the checkpoint's weights matched the model; null for a model built from its config.</summary>
    public WeightLoadReport? LoadReport { get; private set; }

    /// <summary>The transformers class this model mirrors ("BertForSequenceClassification"); saved as the config's architectures.</summary>
    public virtual string ClassName => GetType().Name;

    /// <summary>Number of scalar parameters.</summary>
    public long NumParameters => Parameters.ElementCount;

    /// <summary>The state dict: name → tensor, names relative to this model (as torch's model.state_dict()).</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> StateDict() =>
        Parameters.Select(p => new KeyValuePair<string, Tensor>(p.Name[prefix.Length..], p.Value));

    /// <summary>
    /// Writes config.json and model.safetensors (HF's {"format": "pt"} metadata) into
    /// <paramref name="directory"/>. A new folder appears complete or not at all; in an existing folder
    /// each file is replaced atomically and other files are left alone. Python transformers loads the
    /// result unchanged.
    /// </summary>
    /// <param name="directory">The model folder to write.</param>
    /// <param name="dtype">
    /// The stored precision: F32 (the default), or F16/BF16 for a copy half the size (as
    /// <c>model.half().save_pretrained(dir)</c>: values rounded to nearest even, config.json's
    /// torch_dtype "float16"/"bfloat16"). Loading upcasts to float32 again.
    /// </param>
    public void SavePretrained(string directory, DType dtype = DType.F32)
    {
        string torchDtype = TorchDtypeName(dtype);
        var config = Config.Clone();
        config.Architectures = [ClassName];
        config.TorchDtype = torchDtype;
        string full = Path.GetFullPath(directory);
        if (!Directory.Exists(full))
        {
            AtomicDirectory.Create(full, temp => WriteFiles(temp, config, dtype));
            return;
        }
        // An existing folder may hold other things (tokenizer files, a Trainer's checkpoint-N folders):
        // each file is replaced atomically instead, weights first so config.json never describes
        // weights that are not there yet.
        WriteFiles(full, config, dtype);
    }

    /// <summary>config.json's torch_dtype for a stored precision ("float32", "float16", "bfloat16").</summary>
    public static string TorchDtypeName(DType dtype) => dtype switch
    {
        DType.F32 => "float32",
        DType.F16 => "float16",
        DType.BF16 => "bfloat16",
        _ => throw new ArgumentException($"A model can be saved as float32, float16 or bfloat16, not {dtype.SafetensorsName()}.", nameof(dtype)),
    };

    private void WriteFiles(string folder, PretrainedConfig config, DType dtype)
    {
        string path = Path.Combine(folder, "model.safetensors");
        if (dtype == DType.F32)
        {
            SafetensorsWriter.Write(path, StateDict());
        }
        else
        {
            SafetensorsWriter.Write(path, StateDict().Select(p => new KeyValuePair<string, ITensor>(p.Key, ToHalfPrecision(p.Value, dtype))));
        }
        config.SavePretrained(folder);
    }

    private static RawTensor ToHalfPrecision(Tensor tensor, DType dtype)
    {
        var bytes = new byte[(long)tensor.Length * dtype.SizeOf()];
        ElementConversion.FromFloat32(tensor.Span, dtype, bytes);
        return new RawTensor(dtype, tensor.Shape, bytes);
    }

    /// <summary>
    /// Every parameter that trains (requires a gradient), in named_parameters() order: what an
    /// optimizer updates. DistilBERT's sinusoidal position table, for one, is not among them.
    /// </summary>
    public IReadOnlyList<Parameter> TrainableParameters => Parameters.Where(p => p.RequiresGrad).ToList();

    /// <summary>
    /// Gives every trainable parameter a zeroed gradient buffer (once; later calls keep the existing
    /// buffers). Weights loaded from safetensors are mapped copy-on-write, so training writes to
    /// private pages and never touches the checkpoint file.
    /// </summary>
    public void EnableGradients() => Parameters.AllocateGradients();

    /// <summary>
    /// Copies the weights of an HF model folder of this architecture (a Trainer checkpoint, or a
    /// folder <see cref="SavePretrained"/> wrote) into this model's parameters in place, like
    /// load_state_dict(strict=True): every parameter must be there with its shape. Tensors the model
    /// does not have (buffers such as position_ids) are ignored.
    /// </summary>
    public void LoadWeights(string directory)
    {
        using var reader = CheckpointFiles.Open(Path.GetFullPath(directory));
        foreach (var (name, parameter) in Parameters.Select(p => (p.Name[prefix.Length..], p)))
        {
            if (!reader.Contains(name))
            {
                throw new InvalidDataException($"'{reader.SourcePath}' has no tensor '{name}' ({ClassName} needs it): the folder holds another model or architecture.");
            }
            var info = reader.GetInfo(name);
            if (!info.Shape.Select(d => (int)d).SequenceEqual(parameter.Shape))
            {
                throw new InvalidDataException(
                    $"'{reader.SourcePath}': tensor '{name}' has shape [{string.Join(", ", info.Shape)}], the model's parameter [{string.Join(", ", parameter.Shape)}].");
            }
            reader.ReadAsFloat32(name, parameter.Value.Span);
        }
    }

    /// <summary>Sets every gradient to zero (optimizer.zero_grad()).</summary>
    public void ZeroGrad() => Parameters.ZeroGradients();

    /// <summary>The training arenas and the head's pending cache (one training pass at a time: training is not thread-safe).</summary>
    internal TrainingWorkspace Training => training ??= new TrainingWorkspace();

    public void Dispose()
    {
        checkpoint?.Dispose();
        checkpoint = null;
        GC.SuppressFinalize(this);
    }

    internal void AttachCheckpoint(ICheckpointReader reader, WeightLoadReport report)
    {
        checkpoint = reader;
        LoadReport = report;
    }

    /// <summary>Scratch memory for one forward pass; concurrent passes get separate arenas.</summary>
    protected ActivationArena RentArena() => arenas.TryTake(out var arena) ? arena : new ActivationArena();

    protected void ReturnArena(ActivationArena arena)
    {
        arena.Reset();
        arenas.Add(arena);
    }

    /// <summary>The configs output switches, overridden per call.</summary>
    protected (bool Attentions, bool HiddenStates) OutputSwitches(bool? outputAttentions, bool? outputHiddenStates) =>
        (outputAttentions ?? Config.OutputAttentions, outputHiddenStates ?? Config.OutputHiddenStates);
}

/// <summary>
/// A bare encoder (what AutoModel returns): input ids to hidden states. Every architecture runs the
/// same skeleton (rent scratch, encoder pass, optional pooler, outputs, return scratch) and supplies
/// its own encoder pass, its training forward and its backward.
/// </summary>
public abstract class EncoderModel(PretrainedConfig config, ParameterBuilder builder) : PreTrainedModel(config, builder)
{
    /// <summary>
    /// model(**inputs): the last hidden state, the pooled first token for models with a pooler, and
    /// every hidden state / attention when asked. Thread-safe: each call rents its own scratch.
    /// </summary>
    public BaseModelOutput Forward(ModelInputs inputs, bool? outputAttentions = null, bool? outputHiddenStates = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var (attentions, hidden) = OutputSwitches(outputAttentions, outputHiddenStates);
        var arena = RentArena();
        try
        {
            var pass = Run(inputs, arena, attentions, hidden);
            Tensor? pooled = null;
            if (PoolerDense is { } pooler)
            {
                pooled = Tensor.Uninitialized(pass.Batch, pass.Hidden);               // (B, C)
                var first = arena.Take(pass.Batch * pass.Hidden);                     // (B, C)
                pass.FirstTokens(first.Span);
                pooler.Forward(first.Span, pooled.Span);
                Activations.Tanh(pooled.Span, pooled.Span);
            }
            return new BaseModelOutput
            {
                LastHiddenState = pass.CopyLastHidden(),
                PoolerOutput = pooled,
                HiddenStates = pass.HiddenStates,
                Attentions = pass.Attentions,
            };
        }
        finally
        {
            ReturnArena(arena);
            GC.KeepAlive(this);
        }
    }

    public BaseModelOutput Forward(IntTensor inputIds, IntTensor? attentionMask = null, IntTensor? tokenTypeIds = null,
        bool? outputAttentions = null, bool? outputHiddenStates = null) =>
        Forward(new ModelInputs(inputIds, attentionMask, tokenTypeIds), outputAttentions, outputHiddenStates);

    /// <summary>A tokenizer's output straight in, as <c>model(**inputs)</c>.</summary>
    public BaseModelOutput Forward(BatchEncoding inputs, bool? outputAttentions = null, bool? outputHiddenStates = null) =>
        Forward(ModelInputs.FromBatchEncoding(inputs), outputAttentions, outputHiddenStates);

    /// <summary>The pooler's dense layer (pooled = tanh(dense(hidden[:, 0]))); null for a model without one.</summary>
    private protected virtual Linear? PoolerDense => null;

    /// <summary>The inference pass at this model's <see cref="PreTrainedModel.InferencePrecision"/>, every position computed.</summary>
    internal EncoderPass Run(ModelInputs inputs, ActivationArena arena, bool outputAttentions, bool outputHiddenStates) =>
        Run(inputs, arena, outputAttentions, outputHiddenStates, firstTokensOnly: false, InferencePrecision);

    /// <summary>The inference pass: validates the inputs and runs embeddings and layers in <paramref name="arena"/>.</summary>
    /// <param name="firstTokensOnly">
    /// The caller reads only hidden[:, 0] (a classification head): an encoder that can may drop the
    /// padding (the pass is then padding-free, see <see cref="EncoderPass.IsPaddingFree"/>).
    /// </param>
    /// <param name="precision">The linear layers' precision (float32 or int8), for encoders that offer a choice.</param>
    internal abstract EncoderPass Run(ModelInputs inputs, ActivationArena arena, bool outputAttentions, bool outputHiddenStates,
        bool firstTokensOnly, InferencePrecision precision);

    /// <summary>The training forward (dropout drawn from <paramref name="random"/> when given), everything kept in <paramref name="arena"/> for <see cref="Backward"/>.</summary>
    internal virtual EncoderTrainingPass TrainForward(ModelInputs inputs, ActivationArena arena, SeededRandom? random) =>
        throw new NotSupportedException($"Training {ClassName} is not implemented yet: backward passes exist for BERT and DistilBERT.");

    /// <summary>Backward from dLastHidden (B, T, C) (used as scratch): accumulates every parameter's gradient.</summary>
    internal virtual void Backward(EncoderTrainingPass pass, Memory<float> dLastHidden, TrainingWorkspace workspace) =>
        throw new NotSupportedException($"Training {ClassName} is not implemented yet: backward passes exist for BERT and DistilBERT.");
}

/// <summary>
/// An encoder with a sequence-classification head (what AutoModelForSequenceClassification returns).
/// Every architecture runs the same skeleton for inference and for training (rent scratch, encoder
/// pass, <see cref="FirstTokenClassificationHead"/>, loss, outputs; backward in reverse); each supplies
/// its encoder, its head and, where its loss rules differ from BERT's, its loss.
/// </summary>
public abstract class SequenceClassificationModel(PretrainedConfig config, ParameterBuilder builder) : PreTrainedModel(config, builder)
{
    public int NumLabels => Config.NumLabels;

    /// <summary>Whether this architecture has backward passes (BERT and DistilBERT do).</summary>
    public virtual bool SupportsTraining => false;

    /// <summary>The encoder under the head (transformers' base_model).</summary>
    private protected abstract EncoderModel BaseEncoder { get; }

    /// <summary>The head on the encoder's first token.</summary>
    private protected abstract FirstTokenClassificationHead Head { get; }

    /// <summary>
    /// Logits for each sequence, and the loss when <paramref name="labels"/> are given: an
    /// <see cref="IntTensor"/> of class indices (B) for single-label classification, a
    /// <see cref="Tensor"/> of multi-hot rows (B, num_labels) for multi-label, or of targets (B) when
    /// num_labels is 1 (regression), decided as transformers decides problem_type. Thread-safe: each
    /// call rents its own scratch.
    /// </summary>
    public SequenceClassifierOutput Forward(ModelInputs inputs, ITensor? labels = null, bool? outputAttentions = null, bool? outputHiddenStates = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var (attentions, hidden) = OutputSwitches(outputAttentions, outputHiddenStates);
        var arena = RentArena();
        try
        {
            // The classification head reads only hidden[:, 0]: the encoder may drop padding; the linear
            // layers run at this (the outer) model's precision.
            var pass = BaseEncoder.Run(inputs, arena, attentions, hidden, firstTokensOnly: true, InferencePrecision);
            var logits = Tensor.Uninitialized(pass.Batch, Head.NumLabels);             // (B, L)
            Head.Forward(pass, arena, logits.Span);
            return new SequenceClassifierOutput
            {
                Logits = logits,
                Loss = labels is null ? null : ComputeLoss(logits, labels),
                HiddenStates = pass.HiddenStates,
                Attentions = pass.Attentions,
            };
        }
        finally
        {
            ReturnArena(arena);
            GC.KeepAlive(this);
        }
    }

    public SequenceClassifierOutput Forward(IntTensor inputIds, IntTensor? attentionMask = null, IntTensor? tokenTypeIds = null,
        ITensor? labels = null, bool? outputAttentions = null, bool? outputHiddenStates = null) =>
        Forward(new ModelInputs(inputIds, attentionMask, tokenTypeIds), labels, outputAttentions, outputHiddenStates);

    /// <summary>A tokenizer's output straight in, as <c>model(**inputs, labels=labels)</c>.</summary>
    public SequenceClassifierOutput Forward(BatchEncoding inputs, ITensor? labels = null, bool? outputAttentions = null, bool? outputHiddenStates = null) =>
        Forward(ModelInputs.FromBatchEncoding(inputs), labels, outputAttentions, outputHiddenStates);

    /// <summary>
    /// The training-mode forward (model.train(); outputs = model(**inputs, labels=labels)): dropout
    /// is active when <paramref name="dropoutRandom"/> is given (its masks are drawn from it; without
    /// it the forward is deterministic, as with every dropout probability at 0), and every activation
    /// backward needs is kept until the next training forward. Gradient buffers are created on the
    /// first call. Not thread-safe: one training pass at a time.
    /// </summary>
    public SequenceClassifierOutput TrainingForward(ModelInputs inputs, ITensor? labels = null, SeededRandom? dropoutRandom = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (!SupportsTraining)
        {
            throw new NotSupportedException($"Training {ClassName} is not implemented yet: backward passes exist for BERT and DistilBERT.");
        }
        EnableGradients();
        var workspace = Training;
        workspace.Pending = null;
        workspace.Forward.Reset();
        try
        {
            var pass = BaseEncoder.TrainForward(inputs, workspace.Forward, dropoutRandom);
            var logits = Tensor.Uninitialized(pass.Batch, Head.NumLabels);            // (B, L)
            var cache = Head.TrainForward(pass, workspace.Forward, dropoutRandom, logits, labels);
            float? loss = labels is null ? null : ComputeLoss(logits, labels);
            workspace.Pending = cache;
            return new SequenceClassifierOutput { Logits = logits, Loss = loss };
        }
        finally
        {
            GC.KeepAlive(this);
        }
    }

    /// <summary>
    /// loss.backward() for the last <see cref="TrainingForward"/>, scaled: adds d(lossScale · loss)/dθ
    /// into every trainable parameter's gradient buffer (accumulating, as torch does; call
    /// <see cref="PreTrainedModel.ZeroGrad"/> between optimizer steps). Each forward can be
    /// differentiated once.
    /// </summary>
    public void Backward(float lossScale = 1f)
    {
        var workspace = Training;
        if (workspace.Pending is not ClassificationHeadCache cache)
        {
            throw new InvalidOperationException("Backward needs a TrainingForward first; each training forward can be differentiated once.");
        }
        if (cache.Labels is null)
        {
            throw new InvalidOperationException("Backward needs a loss: call TrainingForward with labels.");
        }
        workspace.Pending = null;
        var arena = workspace.Backward;
        arena.Reset();
        var dLogits = arena.Take(cache.Logits.Length);                                 // (B, L)
        LossBackward(cache.Logits, cache.Labels, lossScale, dLogits.Span);
        var dHidden = Head.Backward(cache, dLogits, arena);                            // (B, T, C)
        BaseEncoder.Backward(cache.Pass, dHidden, workspace);
        GC.KeepAlive(this);
    }

    /// <summary>The loss of <paramref name="logits"/> (B, L) against <paramref name="labels"/>; BERT's rules unless an architecture has its own.</summary>
    private protected virtual float ComputeLoss(Tensor logits, ITensor labels) => SequenceClassificationLoss.Compute(Config, logits, labels);

    /// <summary>dLogits (B, L) = d(scale · loss)/dlogits for the loss <see cref="ComputeLoss"/> computed.</summary>
    private protected virtual void LossBackward(Tensor logits, ITensor labels, float scale, Span<float> dLogits) =>
        SequenceClassificationLoss.Backward(Config, logits, labels, scale, dLogits);
}
