using Sharpformers.Tensors;

namespace Sharpformers.Nn;

/// <summary>
/// A learnable tensor of a layer. <see cref="Value"/> is the weight itself (possibly memory-mapped
/// straight from the checkpoint); <see cref="Grad"/> is where a backward pass accumulates its gradient
/// (allocated by training, null during inference, so inference keeps no gradient state).
/// </summary>
public sealed class Parameter(string name, Tensor value, bool requiresGrad = true)
{
    /// <summary>The full state-dict name, e.g. "bert.encoder.layer.0.attention.self.query.weight".</summary>
    public string Name { get; } = name;

    public Tensor Value { get; private set; } = value;

    public Tensor? Grad { get; set; }

    /// <summary>False for tensors a model keeps fixed (e.g. DistilBERT's sinusoidal position table).</summary>
    public bool RequiresGrad { get; set; } = requiresGrad;

    public IReadOnlyList<int> Shape => Value.Shape;

    /// <summary>Replaces the value with a tensor of the same shape (loading, or copying weights out of a mapping).</summary>
    public void Assign(Tensor newValue)
    {
        if (!newValue.Shape.SequenceEqual(Value.Shape))
        {
            throw new ArgumentException(
                $"Parameter '{Name}' has shape {TensorShape.Format(Value.Shape.ToArray())}, the new value {TensorShape.Format(newValue.Shape.ToArray())}.", nameof(newValue));
        }
        Value = newValue;
        MarkModified();
    }

    /// <summary>
    /// Counts changes to the value: <see cref="Assign"/> and <see cref="MarkModified"/> bump it. Inference
    /// keeps packed copies of weights (see Sharpformers.Nn.Inference) and repacks when it changes.
    /// </summary>
    public int Version { get; private set; }

    /// <summary>
    /// Declares that the values were written in place (outside an optimizer step of a model that has
    /// gradients), so cached packed copies of this weight are rebuilt before the next inference pass.
    /// </summary>
    public void MarkModified() => Version++;

    public override string ToString() => $"{Name} {TensorShape.Format(Value.Shape.ToArray())}";
}

/// <summary>A model's parameters by name, in the order they were created (torch's named_parameters() order).</summary>
public sealed class ParameterCollection : IReadOnlyList<Parameter>
{
    private readonly List<Parameter> ordered = [];
    private readonly Dictionary<string, Parameter> byName = new(StringComparer.Ordinal);

    public int Count => ordered.Count;

    public Parameter this[int index] => ordered[index];

    public Parameter this[string name] =>
        byName.TryGetValue(name, out var p) ? p : throw new KeyNotFoundException($"The model has no parameter named '{name}'.");

    public bool TryGet(string name, out Parameter parameter) => byName.TryGetValue(name, out parameter!);

    public bool Contains(string name) => byName.ContainsKey(name);

    internal void Add(Parameter parameter)
    {
        if (!byName.TryAdd(parameter.Name, parameter))
        {
            throw new InvalidOperationException($"Parameter '{parameter.Name}' was created twice (a name clash in the model definition).");
        }
        ordered.Add(parameter);
    }

    /// <summary>The parameters whose names start with <paramref name="namePrefix"/>, in order.</summary>
    public ParameterCollection Subset(string namePrefix)
    {
        var subset = new ParameterCollection();
        foreach (var p in ordered)
        {
            if (p.Name.StartsWith(namePrefix, StringComparison.Ordinal)) subset.Add(p);
        }
        return subset;
    }

    /// <summary>The number of scalar values over all parameters.</summary>
    public long ElementCount => ordered.Sum(p => (long)p.Value.Length);

    /// <summary>
    /// Gives every parameter that requires a gradient and has none a zeroed gradient buffer of its
    /// shape, all slices of one array (so zeroing them is one pass). Frozen parameters keep Grad null,
    /// which is how the layers' backward passes know to skip them. Returns the new buffer's length.
    /// </summary>
    public long AllocateGradients()
    {
        var needing = ordered.Where(p => p.RequiresGrad && p.Grad is null).ToList();
        long total = needing.Sum(p => (long)p.Value.Length);
        if (total > Array.MaxLength)
        {
            throw new InvalidOperationException($"The gradients need {total} floats, more than one array holds ({Array.MaxLength}).");
        }
        var storage = new float[total];
        int offset = 0;
        foreach (var p in needing)
        {
            p.Grad = new Tensor(storage.AsMemory(offset, p.Value.Length), p.Value.Shape.ToArray());
            offset += p.Value.Length;
        }
        return total;
    }

    /// <summary>Sets every gradient buffer to zero (torch's zero_grad without set_to_none).</summary>
    public void ZeroGradients()
    {
        foreach (var p in ordered) p.Grad?.Span.Clear();
    }

    public IEnumerator<Parameter> GetEnumerator() => ordered.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
