using System.Text.Json.Nodes;
using Sharpformers.Nn;

namespace Sharpformers.Models.Configuration;

/// <summary>
/// An architecture's defaults for the fields every BERT-like encoder config shares (what its
/// transformers config class's <c>__init__</c> defaults to).
/// </summary>
public sealed record EncoderConfigDefaults
{
    public required int VocabSize { get; init; }
    public required int HiddenSize { get; init; }
    public required int NumHiddenLayers { get; init; }
    public required int NumAttentionHeads { get; init; }
    public required int IntermediateSize { get; init; }
    public string HiddenAct { get; init; } = "gelu";
    public double HiddenDropoutProb { get; init; } = 0.1;
    public double AttentionProbsDropoutProb { get; init; } = 0.1;
    public int MaxPositionEmbeddings { get; init; } = 512;
    public int TypeVocabSize { get; init; } = 2;
    public double InitializerRange { get; init; } = 0.02;
    public double LayerNormEps { get; init; } = 1e-12;
    public int? PadTokenId { get; init; }

    /// <summary>Float fields whose Python default is an int literal (ALBERT's dropouts are <c>0</c>), written as such.</summary>
    public IReadOnlyList<string> IntegerDefaults { get; init; } = [];
}

/// <summary>
/// The fields RoBERTa, XLM-RoBERTa, ELECTRA, ALBERT and DeBERTa-v2 configs share with BERT's
/// (sizes, activation, dropouts, position and type tables, LayerNorm eps), read and written under
/// their config.json names with each architecture's defaults. Architectures add their own fields in
/// <see cref="ReadArchitectureFields"/> / <see cref="WriteArchitectureFields"/> and checks in
/// <see cref="ValidateArchitecture"/>.
/// </summary>
public abstract class TransformerEncoderConfig : PretrainedConfig
{
    // Float fields config.json spelled as integers ("0"), so they are written back the same way.
    // Replaced (not cleared) on every read: a clone made with MemberwiseClone must not share it.
    private HashSet<string> integerSpelled;

    protected TransformerEncoderConfig()
    {
        var d = Defaults;
        VocabSize = d.VocabSize;
        HiddenSize = d.HiddenSize;
        NumHiddenLayers = d.NumHiddenLayers;
        NumAttentionHeads = d.NumAttentionHeads;
        IntermediateSize = d.IntermediateSize;
        HiddenAct = d.HiddenAct;
        HiddenDropoutProb = d.HiddenDropoutProb;
        AttentionProbsDropoutProb = d.AttentionProbsDropoutProb;
        MaxPositionEmbeddings = d.MaxPositionEmbeddings;
        TypeVocabSize = d.TypeVocabSize;
        InitializerRange = d.InitializerRange;
        LayerNormEps = d.LayerNormEps;
        PadTokenId = d.PadTokenId;
        integerSpelled = new HashSet<string>(d.IntegerDefaults, StringComparer.Ordinal);
    }

    /// <summary>The architecture's defaults (a static instance per class).</summary>
    protected abstract EncoderConfigDefaults Defaults { get; }

    protected override int? DefaultPadTokenId => Defaults.PadTokenId;

    public int VocabSize { get; set; }

    public override int HiddenSize { get; set; }

    public override int NumHiddenLayers { get; set; }

    public override int NumAttentionHeads { get; set; }

    public int IntermediateSize { get; set; }

    /// <summary>"gelu" (exact), "gelu_new", "relu", … (see <see cref="ActivationFunctions.Names"/>).</summary>
    public string HiddenAct { get; set; }

    public double HiddenDropoutProb { get; set; }

    public double AttentionProbsDropoutProb { get; set; }

    public int MaxPositionEmbeddings { get; set; }

    public int TypeVocabSize { get; set; }

    public override double InitializerRange { get; set; }

    public double LayerNormEps { get; set; }

    /// <summary>The FFN activation named by hidden_act.</summary>
    public ActivationFunction Activation => ParseActivation(HiddenAct, "hidden_act");

    protected sealed override void ReadModelFields(ConfigReader r)
    {
        var d = Defaults;
        integerSpelled = new HashSet<string>(d.IntegerDefaults, StringComparer.Ordinal);
        VocabSize = r.RequiredInt("vocab_size");
        HiddenSize = r.RequiredInt("hidden_size");
        NumHiddenLayers = r.RequiredInt("num_hidden_layers");
        NumAttentionHeads = r.RequiredInt("num_attention_heads");
        IntermediateSize = r.RequiredInt("intermediate_size");
        HiddenAct = r.String("hidden_act", d.HiddenAct);
        HiddenDropoutProb = ReadFloat(r, "hidden_dropout_prob", d.HiddenDropoutProb);
        AttentionProbsDropoutProb = ReadFloat(r, "attention_probs_dropout_prob", d.AttentionProbsDropoutProb);
        MaxPositionEmbeddings = r.Int("max_position_embeddings", d.MaxPositionEmbeddings);
        TypeVocabSize = r.Int("type_vocab_size", d.TypeVocabSize);
        InitializerRange = ReadFloat(r, "initializer_range", d.InitializerRange);
        LayerNormEps = ReadFloat(r, "layer_norm_eps", d.LayerNormEps);
        ReadArchitectureFields(r);
    }

    protected sealed override void WriteModelFields(JsonObject json)
    {
        json["vocab_size"] = VocabSize;
        json["hidden_size"] = HiddenSize;
        json["num_hidden_layers"] = NumHiddenLayers;
        json["num_attention_heads"] = NumAttentionHeads;
        json["intermediate_size"] = IntermediateSize;
        json["hidden_act"] = HiddenAct;
        WriteFloat(json, "hidden_dropout_prob", HiddenDropoutProb);
        WriteFloat(json, "attention_probs_dropout_prob", AttentionProbsDropoutProb);
        json["max_position_embeddings"] = MaxPositionEmbeddings;
        json["type_vocab_size"] = TypeVocabSize;
        WriteFloat(json, "initializer_range", InitializerRange);
        WriteFloat(json, "layer_norm_eps", LayerNormEps);
        // Written even when null: the class default is a token id, so transformers' to_diff_dict keeps it.
        json["pad_token_id"] = PadTokenId;
        WriteArchitectureFields(json);
    }

    public sealed override void Validate()
    {
        Positive(VocabSize, "vocab_size");
        Positive(HiddenSize, "hidden_size");
        Positive(NumHiddenLayers, "num_hidden_layers");
        Positive(NumAttentionHeads, "num_attention_heads");
        Positive(IntermediateSize, "intermediate_size");
        Positive(MaxPositionEmbeddings, "max_position_embeddings");
        if (TypeVocabSize < 0) throw Invalid($"type_vocab_size must be at least 0, got {TypeVocabSize}");
        if (!(LayerNormEps >= 0)) throw Invalid($"layer_norm_eps must be a non-negative number, got {LayerNormEps}");
        if (PadTokenId is int pad && (pad < 0 || pad >= VocabSize)) throw Invalid($"pad_token_id {pad} is outside the vocabulary of {VocabSize}");
        _ = Activation;
        ValidateArchitecture();
    }

    /// <summary>Reads the architecture's own fields (the shared ones are already read).</summary>
    protected abstract void ReadArchitectureFields(ConfigReader r);

    /// <summary>Writes the architecture's own fields.</summary>
    protected abstract void WriteArchitectureFields(JsonObject json);

    /// <summary>Checks the architecture's own fields and combinations.</summary>
    protected abstract void ValidateArchitecture();

    /// <summary>A float field, remembering whether config.json spelled it as an integer.</summary>
    protected double ReadFloat(ConfigReader r, string key, double defaultValue)
    {
        double value = r.Double(key, defaultValue);
        RememberSpelling(r, key);
        return value;
    }

    /// <summary>A float field that may be null, remembering whether config.json spelled it as an integer.</summary>
    protected double? ReadNullableFloat(ConfigReader r, string key, double? defaultValue)
    {
        double? value = r.NullableDouble(key, defaultValue);
        RememberSpelling(r, key);
        return value;
    }

    // A key config.json leaves out keeps the architecture's default spelling.
    private void RememberSpelling(ConfigReader r, string key)
    {
        if (!r.Has(key)) return;
        if (r.IsIntegerLiteral(key)) integerSpelled.Add(key);
        else integerSpelled.Remove(key);
    }

    /// <summary>Writes a float as Python would print the value config.json held (0 stays 0, 0.1 stays 0.1).</summary>
    protected void WriteFloat(JsonObject json, string key, double? value)
    {
        if (value is double v && integerSpelled.Contains(key) && v == Math.Floor(v) && Math.Abs(v) < 1e15)
        {
            json[key] = (long)v;
            return;
        }
        json[key] = value;
    }

    protected ActivationFunction ParseActivation(string name, string field) =>
        ActivationFunctions.TryParse(name, out var f)
            ? f
            : throw Invalid($"{field} '{name}' is not supported (supported: {string.Join(", ", ActivationFunctions.Names)})");

    protected void Positive(int value, string name)
    {
        if (value < 1) throw Invalid($"{name} must be at least 1, got {value}");
    }

    protected void RequireAbsolutePositions(string positionEmbeddingType)
    {
        if (positionEmbeddingType != "absolute")
        {
            throw new NotSupportedException(
                $"{SourcePath ?? "config"}: position_embedding_type '{positionEmbeddingType}' is not supported (supported: absolute).");
        }
    }

    protected void RequireHeadsDivideHidden()
    {
        if (HiddenSize % NumAttentionHeads != 0)
        {
            throw Invalid($"hidden_size {HiddenSize} is not a multiple of num_attention_heads {NumAttentionHeads}");
        }
    }

    protected InvalidDataException Invalid(string problem) => new($"{SourcePath ?? "config"}: {problem}.");
}
