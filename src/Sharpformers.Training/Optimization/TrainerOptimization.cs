using System.Text.RegularExpressions;
using Sharpformers.Nn.Optim;

namespace Sharpformers.Training.Optimization;

/// <summary>
/// How HF's Trainer builds its optimizer and scheduler from <see cref="TrainingArguments"/>
/// (Trainer.create_optimizer / create_scheduler).
/// </summary>
public static partial class TrainerOptimization
{
    /// <summary>
    /// HF's get_decay_parameter_names: every parameter except biases (any name containing "bias")
    /// and the parameters of LayerNorm modules. HF finds the latter by module type (nn.LayerNorm);
    /// we see only names, so a parameter belongs to a LayerNorm when the module holding it is named
    /// like one: LayerNorm / layer_norm / *_layer_norm / layernorm* / ln / *_ln / norm / *_norm
    /// (BERT's "LayerNorm", DistilBERT's "sa_layer_norm" and "output_layer_norm", ALBERT's
    /// "full_layer_layer_norm").
    /// </summary>
    public static IReadOnlySet<string> GetDecayParameterNames(IEnumerable<string> parameterNames)
    {
        ArgumentNullException.ThrowIfNull(parameterNames);
        var decay = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in parameterNames)
        {
            if (name.Contains("bias", StringComparison.Ordinal)) continue;
            int lastDot = name.LastIndexOf('.');
            string module = lastDot > 0 ? name[..lastDot] : "";
            string moduleName = module[(module.LastIndexOf('.') + 1)..];
            if (LayerNormModule().IsMatch(moduleName)) continue;
            decay.Add(name);
        }
        return decay;
    }

    /// <summary>
    /// HF's create_optimizer for optim="adamw_torch": torch AdamW with two groups — the decay
    /// parameters with args.weight_decay and the rest with 0 — lr = learning_rate,
    /// betas = (adam_beta1, adam_beta2), eps = adam_epsilon.
    /// </summary>
    public static AdamW CreateOptimizer(IReadOnlyList<ITrainableParameter> parameters, TrainingArguments args)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(args);
        var decay = GetDecayParameterNames(parameters.Select(p => p.Name));
        return new AdamW(
            [
                new ParameterGroup(parameters.Where(p => decay.Contains(p.Name)), weightDecay: args.WeightDecay),
                new ParameterGroup(parameters.Where(p => !decay.Contains(p.Name)), weightDecay: 0.0),
            ],
            learningRate: args.LearningRate,
            beta1: args.AdamBeta1,
            beta2: args.AdamBeta2,
            eps: args.AdamEpsilon,
            weightDecay: args.WeightDecay);
    }

    /// <summary>HF's create_scheduler: get_scheduler(lr_scheduler_type, warmup = args.GetWarmupSteps(total), total, lr_scheduler_kwargs).</summary>
    public static LearningRateScheduler CreateScheduler(AdamW optimizer, TrainingArguments args, int numTrainingSteps)
    {
        ArgumentNullException.ThrowIfNull(args);
        return Schedules.GetScheduler(args.LrSchedulerType, optimizer, args.GetWarmupSteps(numTrainingSteps), numTrainingSteps, args.LrSchedulerKwargs);
    }

    [GeneratedRegex(@"^(.*layer_?norm.*|ln|.*_ln|norm|.*_norm)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex LayerNormModule();
}
