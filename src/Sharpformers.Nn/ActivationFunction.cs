using Sharpformers.Kernels;

namespace Sharpformers.Nn;

/// <summary>The activations Hugging Face configs name in hidden_act / activation (HF's ACT2FN).</summary>
public enum ActivationFunction
{
    /// <summary>"gelu", "gelu_python": exact erf GELU.</summary>
    Gelu,

    /// <summary>"gelu_new", "gelu_pytorch_tanh", "gelu_fast", "gelu_accurate": the tanh approximation.</summary>
    GeluTanh,

    /// <summary>"quick_gelu": x·sigmoid(1.702x).</summary>
    QuickGelu,

    Relu,

    /// <summary>"silu", "swish".</summary>
    Silu,

    Tanh,

    Sigmoid,

    /// <summary>"linear": identity.</summary>
    Linear,
}

public static class ActivationFunctions
{
    private static readonly Dictionary<string, ActivationFunction> ByName = new(StringComparer.Ordinal)
    {
        ["gelu"] = ActivationFunction.Gelu,
        ["gelu_python"] = ActivationFunction.Gelu,
        ["gelu_new"] = ActivationFunction.GeluTanh,
        ["gelu_pytorch_tanh"] = ActivationFunction.GeluTanh,
        ["gelu_fast"] = ActivationFunction.GeluTanh,
        ["gelu_accurate"] = ActivationFunction.GeluTanh,
        ["quick_gelu"] = ActivationFunction.QuickGelu,
        ["relu"] = ActivationFunction.Relu,
        ["silu"] = ActivationFunction.Silu,
        ["swish"] = ActivationFunction.Silu,
        ["tanh"] = ActivationFunction.Tanh,
        ["sigmoid"] = ActivationFunction.Sigmoid,
        ["linear"] = ActivationFunction.Linear,
    };

    /// <summary>The names accepted in config.json.</summary>
    public static IReadOnlyCollection<string> Names => ByName.Keys;

    public static bool TryParse(string name, out ActivationFunction function) => ByName.TryGetValue(name, out function);

    /// <summary>y = f(x) element-wise, split across threads for large buffers; y may be x.</summary>
    public static void Apply(this ActivationFunction function, ReadOnlyMemory<float> x, Memory<float> y)
    {
        RowParallel.For(x.Length, 1, (start, count) => ApplySpan(function, x.Span.Slice(start, count), y.Span.Slice(start, count)));
    }

    /// <summary>dx = dy · f′(x) element-wise from the activation's input x, split across threads; dx may be dy.</summary>
    public static void Backward(this ActivationFunction function, ReadOnlyMemory<float> x, ReadOnlyMemory<float> dy, Memory<float> dx)
    {
        RowParallel.For(x.Length, 1, (start, count) =>
            BackwardSpan(function, x.Span.Slice(start, count), dy.Span.Slice(start, count), dx.Span.Slice(start, count)));
    }

    public static void BackwardSpan(this ActivationFunction function, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        switch (function)
        {
            case ActivationFunction.Gelu: ActivationsBackward.Gelu(x, dy, dx); break;
            case ActivationFunction.GeluTanh: ActivationsBackward.GeluTanh(x, dy, dx); break;
            case ActivationFunction.QuickGelu: ActivationsBackward.QuickGelu(x, dy, dx); break;
            case ActivationFunction.Relu: ActivationsBackward.Relu(x, dy, dx); break;
            case ActivationFunction.Silu: ActivationsBackward.Silu(x, dy, dx); break;
            case ActivationFunction.Tanh: ActivationsBackward.Tanh(x, dy, dx); break;
            case ActivationFunction.Sigmoid: ActivationsBackward.Sigmoid(x, dy, dx); break;
            case ActivationFunction.Linear: if (!dy.Overlaps(dx)) dy.CopyTo(dx); break;
            default: throw new ArgumentOutOfRangeException(nameof(function), function, "Unknown activation.");
        }
    }

    public static void ApplySpan(this ActivationFunction function, ReadOnlySpan<float> x, Span<float> y)
    {
        switch (function)
        {
            case ActivationFunction.Gelu: Activations.Gelu(x, y); break;
            case ActivationFunction.GeluTanh: Activations.GeluTanh(x, y); break;
            case ActivationFunction.QuickGelu: Activations.QuickGelu(x, y); break;
            case ActivationFunction.Relu: Activations.Relu(x, y); break;
            case ActivationFunction.Silu: Activations.Silu(x, y); break;
            case ActivationFunction.Tanh: Activations.Tanh(x, y); break;
            case ActivationFunction.Sigmoid: Activations.Sigmoid(x, y); break;
            case ActivationFunction.Linear: if (!x.Overlaps(y)) x.CopyTo(y); break;
            default: throw new ArgumentOutOfRangeException(nameof(function), function, "Unknown activation.");
        }
    }
}
