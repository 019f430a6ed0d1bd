using System.Text.Json;
using System.Text.Json.Nodes;
using Sharpformers.Models.Configuration;
using Sharpformers.Nn;

namespace Sharpformers.Models.DebertaV2;

/// <summary>
/// transformers' DebertaV2Config. Defaults are DebertaV2Config()'s (deberta-v2-xlarge's shape). The
/// fields transformers reads with getattr (position_buckets, norm_rel_ebd, share_att_key, conv_*,
/// embedding_size, attention_head_size, cls_dropout) are null when config.json leaves them out, and
/// are then written back only if set, as transformers does.
/// </summary>
public sealed class DebertaV2Config : TransformerEncoderConfig
{
    public const string Type = "deberta-v2";

    private static readonly string[] PositionAttentionTypes = ["c2p", "p2c"];
    private static readonly string[] RelativeEmbeddingNorms = ["none", "layer_norm"];

    private static readonly EncoderConfigDefaults DebertaV2Defaults = new()
    {
        VocabSize = 128100,
        HiddenSize = 1536,
        NumHiddenLayers = 24,
        NumAttentionHeads = 24,
        IntermediateSize = 6144,
        TypeVocabSize = 0,
        LayerNormEps = 1e-7,
        PadTokenId = 0,
        IntegerDefaults = ["pooler_dropout"],
    };

    public override string ModelType => Type;

    protected override EncoderConfigDefaults Defaults => DebertaV2Defaults;

    /// <summary>Disentangled (relative-position) attention; false leaves plain content attention.</summary>
    public bool RelativeAttention { get; set; }

    /// <summary>Relative distance range; below 1 it is max_position_embeddings.</summary>
    public int MaxRelativePositions { get; set; } = -1;

    /// <summary>Whether absolute position embeddings are added to the word embeddings (false in DeBERTa-v3).</summary>
    public bool PositionBiasedInput { get; set; } = true;

    /// <summary>Which relative terms the attention adds: "c2p" (content → position), "p2c" (position → content); null for none.</summary>
    public IReadOnlyList<string>? PosAttType { get; set; }

    public double PoolerDropout { get; set; }

    /// <summary>The ContextPooler's activation (applied after its dense layer).</summary>
    public string PoolerHiddenAct { get; set; } = "gelu";

    /// <summary>The ContextPooler's width; null means hidden_size (which it must equal).</summary>
    public int? PoolerHiddenSize { get; set; }

    /// <summary>Log-bucketed relative positions when positive (DeBERTa-v3 uses 256); null or ≤ 0 for plain distances.</summary>
    public int? PositionBuckets { get; set; }

    /// <summary>"layer_norm" to layer-normalise the relative embeddings, "none" (default) otherwise; "|"-separated.</summary>
    public string? NormRelEbd { get; set; }

    /// <summary>Project relative embeddings with the content query/key projections instead of separate pos_*_proj ones.</summary>
    public bool? ShareAttKey { get; set; }

    /// <summary>Kernel of the ConvLayer added after the first layer when positive (odd).</summary>
    public int? ConvKernelSize { get; set; }

    public int? ConvGroups { get; set; }

    /// <summary>The ConvLayer's activation ("tanh" by default).</summary>
    public string? ConvAct { get; set; }

    /// <summary>Embedding width; an embed_proj (no bias) maps it to hidden_size when it differs. Null means hidden_size.</summary>
    public int? EmbeddingSize { get; set; }

    /// <summary>Per-head width; only hidden_size / num_attention_heads (the default) is supported.</summary>
    public int? AttentionHeadSize { get; set; }

    /// <summary>Dropout before the classifier; null means hidden_dropout_prob.</summary>
    public double? ClsDropout { get; set; }

    public int EffectiveEmbeddingSize => EmbeddingSize ?? HiddenSize;

    public int EffectivePoolerHiddenSize => PoolerHiddenSize ?? HiddenSize;

    public bool ShareAttentionKey => ShareAttKey ?? false;

    /// <summary>max_relative_positions, or max_position_embeddings when it is below 1.</summary>
    public int EffectiveMaxRelativePositions => MaxRelativePositions < 1 ? MaxPositionEmbeddings : MaxRelativePositions;

    /// <summary>The attention span (transformers' pos_ebd_size): position_buckets when positive, else the relative range.</summary>
    public int AttentionSpan => PositionBuckets is > 0 ? PositionBuckets.Value : EffectiveMaxRelativePositions;

    public bool UsesContentToPosition => PosAttType?.Contains("c2p") == true;

    public bool UsesPositionToContent => PosAttType?.Contains("p2c") == true;

    /// <summary>1 + one per relative term: the content scores are divided by sqrt(head_dim · this).</summary>
    public int ScaleFactor => 1 + (UsesContentToPosition ? 1 : 0) + (UsesPositionToContent ? 1 : 0);

    public bool NormalizesRelativeEmbeddings => RelativeEmbeddingNormParts().Contains("layer_norm");

    public bool HasConvLayer => ConvKernelSize is > 0;

    public ActivationFunction PoolerActivation => ParseActivation(PoolerHiddenAct, "pooler_hidden_act");

    public ActivationFunction ConvActivation => ParseActivation(ConvAct ?? "tanh", "conv_act");

    protected override void ReadArchitectureFields(ConfigReader r)
    {
        RelativeAttention = r.Bool("relative_attention", false);
        MaxRelativePositions = r.Int("max_relative_positions", -1);
        PositionBiasedInput = r.Bool("position_biased_input", true);
        PosAttType = ReadPosAttType(r);
        PoolerDropout = ReadFloat(r, "pooler_dropout", 0);
        PoolerHiddenAct = r.String("pooler_hidden_act", "gelu");
        PoolerHiddenSize = r.NullableInt("pooler_hidden_size", null);
        PositionBuckets = r.NullableInt("position_buckets", null);
        NormRelEbd = r.NullableString("norm_rel_ebd");
        ShareAttKey = r.Has("share_att_key") ? r.Bool("share_att_key", null) : null;
        ConvKernelSize = r.NullableInt("conv_kernel_size", null);
        ConvGroups = r.NullableInt("conv_groups", null);
        ConvAct = r.NullableString("conv_act");
        EmbeddingSize = r.NullableInt("embedding_size", null);
        AttentionHeadSize = r.NullableInt("attention_head_size", null);
        ClsDropout = ReadNullableFloat(r, "cls_dropout", null);
    }

    protected override void WriteArchitectureFields(JsonObject json)
    {
        json["relative_attention"] = RelativeAttention;
        json["max_relative_positions"] = MaxRelativePositions;
        json["position_biased_input"] = PositionBiasedInput;
        json["pos_att_type"] = PosAttType is null ? null : new JsonArray(PosAttType.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray());
        WriteFloat(json, "pooler_dropout", PoolerDropout);
        json["pooler_hidden_act"] = PoolerHiddenAct;
        json["pooler_hidden_size"] = EffectivePoolerHiddenSize;
        SetIfPresent(json, "position_buckets", PositionBuckets);
        SetIfPresent(json, "norm_rel_ebd", NormRelEbd);
        SetIfPresent(json, "share_att_key", ShareAttKey);
        SetIfPresent(json, "conv_kernel_size", ConvKernelSize);
        SetIfPresent(json, "conv_groups", ConvGroups);
        SetIfPresent(json, "conv_act", ConvAct);
        SetIfPresent(json, "embedding_size", EmbeddingSize);
        SetIfPresent(json, "attention_head_size", AttentionHeadSize);
        if (ClsDropout is not null) WriteFloat(json, "cls_dropout", ClsDropout);
    }

    protected override void ValidateArchitecture()
    {
        RequireHeadsDivideHidden();
        if (AttentionHeadSize is int headSize && headSize != HiddenSize / NumAttentionHeads)
        {
            throw new NotSupportedException(
                $"{SourcePath ?? "config"}: attention_head_size {headSize} differs from hidden_size / num_attention_heads = {HiddenSize / NumAttentionHeads}; only the default head size is supported.");
        }
        if (EmbeddingSize is int e) Positive(e, "embedding_size");
        foreach (string type in PosAttType ?? [])
        {
            if (!PositionAttentionTypes.Contains(type))
            {
                throw Invalid($"pos_att_type holds '{type}'; expected \"c2p\" and/or \"p2c\"");
            }
        }
        foreach (string part in RelativeEmbeddingNormParts())
        {
            if (!RelativeEmbeddingNorms.Contains(part)) throw Invalid($"norm_rel_ebd '{NormRelEbd}' is not supported (expected \"none\" or \"layer_norm\")");
        }
        if (EffectivePoolerHiddenSize != HiddenSize)
        {
            throw Invalid($"pooler_hidden_size {EffectivePoolerHiddenSize} differs from hidden_size {HiddenSize}; the ContextPooler reads the hidden state and the classifier its output, so they must be equal");
        }
        _ = PoolerActivation;
        if (RelativeAttention && PositionBuckets is int buckets && buckets > 0)
        {
            if (buckets < 2) throw Invalid($"position_buckets {buckets} must be at least 2 when positive");
            if (EffectiveMaxRelativePositions - 1 <= buckets / 2)
            {
                throw Invalid($"position_buckets {buckets} needs max_relative_positions (or max_position_embeddings) above {buckets / 2 + 1}, got {EffectiveMaxRelativePositions}: the log buckets divide by log((max - 1) / (buckets / 2))");
            }
        }
        if (HasConvLayer)
        {
            int kernel = ConvKernelSize!.Value;
            if (kernel % 2 == 0) throw Invalid($"conv_kernel_size {kernel} must be odd (the convolution keeps the sequence length with padding (k - 1) / 2)");
            int groups = ConvGroups ?? 1;
            if (groups < 1 || HiddenSize % groups != 0) throw Invalid($"conv_groups {groups} must be a positive divisor of hidden_size {HiddenSize}");
            _ = ConvActivation;
        }
    }

    private string[] RelativeEmbeddingNormParts() =>
        (NormRelEbd ?? "none").ToLowerInvariant().Split('|').Select(p => p.Trim()).ToArray();

    // Older configs spell pos_att_type "p2c|c2p"; transformers splits and lower-cases that.
    private static List<string>? ReadPosAttType(ConfigReader r)
    {
        if (r.KindOf("pos_att_type") == JsonValueKind.String)
        {
            return r.String("pos_att_type", null).ToLowerInvariant().Split('|').Select(p => p.Trim()).ToList();
        }
        return r.NullableStringList("pos_att_type")?.ToList();
    }

    private static void SetIfPresent<T>(JsonObject json, string key, T? value)
    {
        if (value is null) json.Remove(key);
        else json[key] = JsonValue.Create(value);
    }
}
