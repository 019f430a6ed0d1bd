using Sharpformers.Hub;
using Sharpformers.Models.Configuration;
using Sharpformers.Nn;
using Sharpformers.Tensors.Formats;

namespace Sharpformers.Models;

/// <summary>
/// from_pretrained's steps, shared by every model class: resolve the folder or Hub repo id (through
/// <see cref="PretrainedFiles"/>, so the cache, revision, token and offline mode behave as in
/// transformers), read config.json and apply the options, pick the weights with Hugging Face's
/// preference and open them, build the model through a <see cref="ParameterBuilder"/> over the
/// checkpoint, check and log what did not match.
/// </summary>
internal static class PretrainedLoader
{
    public static TModel Load<TModel>(
        string nameOrPath, FromPretrainedOptions? options, bool modelUsesPrefix, string? requiredModelType, string className,
        Func<ModelArchitecture, PretrainedConfig, ParameterBuilder, TModel> create,
        Func<string, bool> isNewHeadParameter)
        where TModel : PreTrainedModel
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nameOrPath);
        options ??= new FromPretrainedOptions();
        if (File.Exists(nameOrPath))
        {
            throw new ArgumentException(
                $"'{nameOrPath}' is a file; {className}.FromPretrained expects the folder that holds config.json and the weights, or a Hub repo id ('org/name').");
        }
        var config = AutoConfig.FromPretrained(nameOrPath, options);
        if (requiredModelType is not null && config.ModelType != requiredModelType)
        {
            throw new InvalidDataException(
                $"{config.SourcePath}: model_type is '{config.ModelType}', but {className} needs '{requiredModelType}'; use the Auto classes to load any architecture.");
        }
        var architecture = ModelRegistry.Get(config.ModelType, config.SourcePath);
        var weights = PretrainedFiles.ResolveCheckpoint(nameOrPath, options);
        var checkpoint = CheckpointFiles.OpenFile(weights.Path);
        try
        {
            var builder = ParameterBuilder.ForCheckpoint(checkpoint, new LoadingOptions
            {
                BaseModelPrefix = architecture.BaseModelPrefix,
                ModelUsesPrefix = modelUsesPrefix,
                IgnoreMismatchedSizes = options.IgnoreMismatchedSizes,
                Seed = options.Seed,
            });
            var model = create(architecture, config, builder);
            var report = builder.Finish(model.ClassName);
            var missingEncoderWeights = report.MissingParameterNames.Where(n => !isNewHeadParameter(n)).ToList();
            if (missingEncoderWeights.Count > 0 && !options.AllowMissingWeights)
            {
                var shown = string.Join(", ", missingEncoderWeights.Take(8).Select(n => $"'{n}'"));
                string more = missingEncoderWeights.Count > 8 ? $" and {missingEncoderWeights.Count - 8} more" : "";
                throw new InvalidDataException(
                    $"'{checkpoint.SourcePath}' lacks {missingEncoderWeights.Count} of the {model.Parameters.Count} weights {className} needs: {shown}{more}. " +
                    "The folder may hold another architecture or a damaged checkpoint; set AllowMissingWeights to initialise them randomly as transformers would.");
            }
            model.AttachCheckpoint(checkpoint, report);
            if (report.Warning is string warning) (options.Log ?? Console.Error.WriteLine)(warning);
            return model;
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
    }

    public static void ApplyOptions(PretrainedConfig config, FromPretrainedOptions options)
    {
        if (options.OutputAttentions is bool attentions) config.OutputAttentions = attentions;
        if (options.OutputHiddenStates is bool hidden) config.OutputHiddenStates = hidden;
        if (options.Id2Label is not null)
        {
            if (options.NumLabels is int n && n != options.Id2Label.Count)
            {
                throw new ArgumentException($"NumLabels = {n} but Id2Label has {options.Id2Label.Count} labels.");
            }
            config.Id2Label = options.Id2Label;
        }
        else if (options.NumLabels is int count)
        {
            config.NumLabels = count;
        }
        if (options.ProblemType is not null) config.ProblemType = options.ProblemType;
    }
}
