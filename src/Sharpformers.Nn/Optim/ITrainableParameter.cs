namespace Sharpformers.Nn.Optim;

/// <summary>
/// A named model parameter as an optimizer sees it: its float32 values and the gradient that
/// backward accumulated into a buffer of the same length. Names are the checkpoint names
/// (e.g. "bert.encoder.layer.0.attention.output.LayerNorm.weight"): optimizer state is saved by name.
/// </summary>
public interface ITrainableParameter
{
    string Name { get; }

    /// <summary>The values, row-major; updated in place by the optimizer.</summary>
    Span<float> Value { get; }

    /// <summary>The gradient, same length as <see cref="Value"/>; read, clipped and zeroed by the trainer.</summary>
    Span<float> Gradient { get; }
}

/// <summary>A parameter over two arrays (tests, adapters, and models that keep plain arrays).</summary>
public sealed class TrainableParameter : ITrainableParameter
{
    private readonly float[] value;
    private readonly float[] gradient;

    public TrainableParameter(string name, float[] value, float[]? gradient = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(value);
        gradient ??= new float[value.Length];
        if (gradient.Length != value.Length)
        {
            throw new ArgumentException($"Parameter '{name}': gradient has {gradient.Length} elements but the value has {value.Length}.", nameof(gradient));
        }
        Name = name;
        this.value = value;
        this.gradient = gradient;
    }

    public string Name { get; }

    public Span<float> Value => value;

    public Span<float> Gradient => gradient;

    public override string ToString() => $"{Name} ({value.Length})";
}
