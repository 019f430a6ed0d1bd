using Sharpformers.Pipelines;

namespace Sharpformers.Server.Tests;

/// <summary>
/// The real backend with a gate in front of each forward pass, so a test can hold a batch "in the model"
/// while it queues, cancels or stops around it. Every wait is bounded.
/// </summary>
internal sealed class GatedBackend(IInferenceBackend inner) : IInferenceBackend, IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly SemaphoreSlim entered = new(0);
    private readonly SemaphoreSlim release = new(0);
    private readonly Lock gate = new();
    private readonly List<string[]> batches = [];
    private volatile bool open;

    public ModelDescription Description => inner.Description;

    public bool CanBatch => inner.CanBatch;

    /// <summary>The texts of each forward pass, in order.</summary>
    public IReadOnlyList<string[]> Batches
    {
        get
        {
            lock (gate) return batches.ToList();
        }
    }

    public PreparedInput Prepare(TextInput input, bool truncation, string path) => inner.Prepare(input, truncation, path);

    public float[][] Forward(IReadOnlyList<PreparedInput> batch)
    {
        lock (gate) batches.Add(batch.Select(b => b.Input.Text).ToArray());
        entered.Release();
        if (!open && !release.Wait(Patience)) throw new TimeoutException("the test never opened the gate");
        return inner.Forward(batch);
    }

    public IReadOnlyList<ClassificationResult> Postprocess(IReadOnlyList<TextInput> inputs, float[][] logits, TextClassificationOptions options) =>
        inner.Postprocess(inputs, logits, options);

    /// <summary>Waits until a forward pass has reached the gate.</summary>
    public async Task WaitForForwardAsync()
    {
        if (!await entered.WaitAsync(Patience)) throw new Xunit.Sdk.XunitException("no forward pass reached the gate");
    }

    /// <summary>Lets one waiting (or the next) forward pass through.</summary>
    public void Step() => release.Release();

    /// <summary>Lets every forward pass through from now on.</summary>
    public void Open()
    {
        open = true;
        release.Release(1000);
    }

    public void Dispose()
    {
        Open();
        (inner as IDisposable)?.Dispose();
    }
}

/// <summary>The real backend, except that a batch holding the text "boom" fails, as a model rejecting an input would.</summary>
internal sealed class FailingBackend(IInferenceBackend inner) : IInferenceBackend, IDisposable
{
    public const string Poison = "boom";

    public ModelDescription Description => inner.Description;

    public bool CanBatch => inner.CanBatch;

    public PreparedInput Prepare(TextInput input, bool truncation, string path) => inner.Prepare(input, truncation, path);

    public float[][] Forward(IReadOnlyList<PreparedInput> batch)
    {
        if (batch.Any(b => b.Input.Text == Poison)) throw new InvalidOperationException("input_ids out of range (simulated)");
        return inner.Forward(batch);
    }

    public IReadOnlyList<ClassificationResult> Postprocess(IReadOnlyList<TextInput> inputs, float[][] logits, TextClassificationOptions options) =>
        inner.Postprocess(inputs, logits, options);

    public void Dispose() => (inner as IDisposable)?.Dispose();
}
