using System.Text.Json;
using System.Text.Json.Nodes;
using Sharpformers.Kernels;
using Sharpformers.Models.Configuration;
using Sharpformers.Nn;
using Sharpformers.Nn.Inference;
using Sharpformers.Tensors;

namespace Sharpformers.Models.DebertaV2;

// DeBERTa-v2/v3 as transformers' modeling_deberta_v2.py (4.38) has it:
// - embeddings: word (+ absolute positions when position_biased_input) (+ token types when
//   type_vocab_size > 0), embed_proj when embedding_size differs, LayerNorm, then zeroed at padding;
// - disentangled self-attention: scores = Q·Kᵀ/s + c2p/s + p2c/s with s = sqrt(head_dim · scale_factor),
//   c2p[i, j] = Q_i · K_r[c2p_pos(i, j)], p2c[i, j] = K_j · Q_r[p2c_pos(j, i)], where K_r/Q_r project the
//   (layer-normalised) relative embeddings and the positions are log-bucketed relative distances;
// - XSoftmax: masked keys get probability 0 and padded queries a row of zeros;
// - post-LN blocks under their own names, an optional ConvLayer after the first block, and the
//   ContextPooler (first token → dense → pooler_hidden_act) + classifier head.

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

/// <summary>transformers' build_relative_position and make_log_bucket_position.</summary>
public static class DebertaV2RelativePositions
{
    /// <summary>(query_size, key_size) row-major: query i minus key j, log-bucketed when bucketSize and maxPosition are positive.</summary>
    public static int[] Build(int querySize, int keySize, int bucketSize, int maxPosition)
    {
        var positions = new int[querySize * keySize];
        bool bucketed = bucketSize > 0 && maxPosition > 0;
        for (int i = 0; i < querySize; i++)
        {
            for (int j = 0; j < keySize; j++)
            {
                int relative = i - j;
                positions[i * keySize + j] = bucketed ? LogBucket(relative, bucketSize, maxPosition) : relative;
            }
        }
        return positions;
    }

    /// <summary>
    /// Distances within bucketSize / 2 stay as they are; longer ones map logarithmically onto the rest
    /// of the buckets. Computed in float32 step by step as torch does it, since the ceiling makes the
    /// last bit matter.
    /// </summary>
    public static int LogBucket(int relativePosition, int bucketSize, int maxPosition)
    {
        int mid = bucketSize / 2;
        int abs = relativePosition < mid && relativePosition > -mid ? mid - 1 : Math.Abs(relativePosition);
        if (abs <= mid) return relativePosition;
        float logRatio = MathF.Log((float)abs / mid);
        float logMax = MathF.Log((float)((maxPosition - 1) / (double)mid));
        float logPosition = MathF.Ceiling(logRatio / logMax * (mid - 1)) + mid;
        return (int)(logPosition * Math.Sign(relativePosition));
    }
}

/// <summary>DebertaV2Embeddings: word (+ position) (+ token type) embeddings, embed_proj, LayerNorm, zeroed at padding.</summary>
public sealed class DebertaV2Embeddings
{
    public DebertaV2Embeddings(DebertaV2Config config, ParameterBuilder builder)
    {
        double std = config.InitializerRange;
        EmbeddingSize = config.EffectiveEmbeddingSize;
        HiddenSize = config.HiddenSize;
        WordEmbeddings = new Embedding(builder.Prefix("word_embeddings"), config.VocabSize, EmbeddingSize, ParameterInit.NormalWithZeroRow(std, config.PadTokenId));
        if (config.PositionBiasedInput)
        {
            PositionEmbeddings = new Embedding(builder.Prefix("position_embeddings"), config.MaxPositionEmbeddings, EmbeddingSize, ParameterInit.Normal(std));
        }
        else
        {
            // transformers ignores a stored table it does not use (_keys_to_ignore_on_load_unexpected).
            builder.Prefix("position_embeddings").DeclareBuffer("weight");
        }
        if (config.TypeVocabSize > 0)
        {
            TokenTypeEmbeddings = new Embedding(builder.Prefix("token_type_embeddings"), config.TypeVocabSize, EmbeddingSize, ParameterInit.Normal(std));
        }
        if (EmbeddingSize != HiddenSize)
        {
            EmbedProj = new Linear(builder.Prefix("embed_proj"), EmbeddingSize, HiddenSize, std, bias: false);
        }
        LayerNorm = new LayerNorm(builder.Prefix("LayerNorm"), HiddenSize, config.LayerNormEps);
        builder.DeclareBuffer("position_ids");
    }

    public int EmbeddingSize { get; }

    public int HiddenSize { get; }

    public Embedding WordEmbeddings { get; }

    /// <summary>Absolute positions; null when position_biased_input is false.</summary>
    public Embedding? PositionEmbeddings { get; }

    /// <summary>Null when type_vocab_size is 0 (token_type_ids are then ignored).</summary>
    public Embedding? TokenTypeEmbeddings { get; }

    /// <summary>embed_proj (embedding_size → hidden_size, no bias); null when they are equal.</summary>
    public Linear? EmbedProj { get; }

    public LayerNorm LayerNorm { get; }

    /// <summary>
    /// sum (N, E) = word + position + token type (torch's order); projected (N, C) = embed_proj(sum), or
    /// sum itself without a projection; output (N, C) = LN(projected) · mask. An empty
    /// <paramref name="attentionMask"/> keeps every token; empty <paramref name="tokenTypeIds"/> is
    /// segment 0. mean and rstd (N) are written when non-empty.
    /// </summary>
    public void Forward(ReadOnlySpan<int> inputIds, ReadOnlySpan<int> tokenTypeIds, ReadOnlySpan<int> positionIds, ReadOnlySpan<int> attentionMask,
        Memory<float> sum, Memory<float> projected, Memory<float> output, Memory<float> mean, Memory<float> rstd)
    {
        var s = sum.Span;
        WordEmbeddings.Forward(inputIds, s);
        PositionEmbeddings?.ForwardAdd(positionIds, s);
        if (TokenTypeEmbeddings is not null)
        {
            if (!tokenTypeIds.IsEmpty) TokenTypeEmbeddings.ForwardAdd(tokenTypeIds, s);
            else Elementwise.AddRowToEachRow(s, TokenTypeEmbeddings.Weight.Value.Span[..EmbeddingSize], s);
        }
        if (EmbedProj is not null) EmbedProj.Forward(s, projected.Span);
        LayerNorm.Forward(EmbedProj is null ? sum : projected, output, mean, rstd);
        if (!attentionMask.IsEmpty) ZeroMaskedRows(output.Span, attentionMask, HiddenSize);
    }

    internal static void ZeroMaskedRows(Span<float> rows, ReadOnlySpan<int> mask, int width)
    {
        for (int t = 0; t < mask.Length; t++)
        {
            if (mask[t] == 0) rows.Slice(t * width, width).Clear();
        }
    }
}

/// <summary>What every disentangled attention layer of one forward pass shares.</summary>
public sealed class DisentangledAttentionContext
{
    public required int Batch { get; init; }

    public required int Seq { get; init; }

    /// <summary>The attention span S (pos_ebd_size); relative embeddings have 2S rows.</summary>
    public required int Span { get; init; }

    /// <summary>(2S, C) the relative embeddings, layer-normalised when norm_rel_ebd says so; empty without relative attention.</summary>
    public required ReadOnlyMemory<float> RelativeEmbeddings { get; init; }

    /// <summary>(T, T): [i·T + j] = clamp(rel(i, j) + S, 0, 2S - 1), the c2p column for query i, key j.</summary>
    public required int[] ContentToPositionIndex { get; init; }

    /// <summary>(T, T): [i·T + j] = clamp(-rel(j, i) + S, 0, 2S - 1), the p2c column of key j's row for query i.</summary>
    public required int[] PositionToContentIndex { get; init; }

    /// <summary>(B, T) 1 for real tokens, 0 for padding; empty when every token is real.</summary>
    public required ReadOnlyMemory<int> AttentionMask { get; init; }

    /// <summary>(B, T) 0 / float.MinValue per key; empty when every token is real.</summary>
    public required ReadOnlyMemory<float> AdditiveMask { get; init; }
}

/// <summary>
/// The buffers one DeBERTa-v2 layer writes: the post-LN block's (<see cref="Block"/>) and the
/// relative-position projections and score tables. For inference one set serves every layer; for
/// training each layer keeps its own (keepForBackward), so a backward pass has Q, K, the projected
/// relative embeddings and the full c2p/p2c tables its gathers read.
/// </summary>
public sealed class DebertaV2LayerActivations
{
    public DebertaV2LayerActivations(ActivationArena arena, int batch, int seq, int hidden, int heads, int intermediateSize,
        int span, bool contentToPosition, bool positionToContent, bool keepForBackward)
    {
        Block = new EncoderLayerActivations(arena, batch, seq, hidden, heads, intermediateSize, keepForBackward);
        int rows = 2 * span;
        if (contentToPosition)
        {
            PositionKey = arena.Take(rows * hidden);
            ContentToPosition = arena.Take(checked(batch * heads * seq * rows));
        }
        if (positionToContent)
        {
            PositionQuery = arena.Take(rows * hidden);
            PositionToContent = arena.Take(checked(batch * heads * seq * rows));
        }
    }

    /// <summary>Q/K/V, attention probabilities, context, residual sums, LayerNorm statistics, FFN.</summary>
    public EncoderLayerActivations Block { get; }

    public Memory<float> PositionKey { get; }          // (2S, C), key projection of the relative embeddings (c2p)
    public Memory<float> PositionQuery { get; }        // (2S, C), query projection of the relative embeddings (p2c)
    public Memory<float> ContentToPosition { get; }    // (B, H, T, 2S), Q_h · K_r,hᵀ before the gather
    public Memory<float> PositionToContent { get; }    // (B, H, T, 2S), K_h · Q_r,hᵀ before the gather
}

/// <summary>DebertaV2Layer: disentangled self-attention, then the post-LN output and feed-forward blocks.</summary>
public sealed class DebertaV2Layer
{
    private readonly float scale;

    public DebertaV2Layer(DebertaV2Config c, ParameterBuilder b)
    {
        double std = c.InitializerRange;
        int h = c.HiddenSize;
        var attention = b.Prefix("attention");
        var self = attention.Prefix("self");
        QueryProj = new Linear(self.Prefix("query_proj"), h, h, std);
        KeyProj = new Linear(self.Prefix("key_proj"), h, h, std);
        ValueProj = new Linear(self.Prefix("value_proj"), h, h, std);
        RelativeAttention = c.RelativeAttention;
        ContentToPosition = c.UsesContentToPosition && c.RelativeAttention;
        PositionToContent = c.UsesPositionToContent && c.RelativeAttention;
        if (c.RelativeAttention && !c.ShareAttentionKey)
        {
            if (c.UsesContentToPosition) PosKeyProj = new Linear(self.Prefix("pos_key_proj"), h, h, std);
            if (c.UsesPositionToContent) PosQueryProj = new Linear(self.Prefix("pos_query_proj"), h, h, std);
        }
        AttentionOutput = new Linear(attention.Prefix("output").Prefix("dense"), h, h, std);
        AttentionNorm = new LayerNorm(attention.Prefix("output").Prefix("LayerNorm"), h, c.LayerNormEps);
        Intermediate = new Linear(b.Prefix("intermediate").Prefix("dense"), h, c.IntermediateSize, std);
        Activation = c.Activation;
        Output = new Linear(b.Prefix("output").Prefix("dense"), c.IntermediateSize, h, std);
        OutputNorm = new LayerNorm(b.Prefix("output").Prefix("LayerNorm"), h, c.LayerNormEps);
        NumHeads = c.NumAttentionHeads;
        // torch.sqrt(torch.tensor(head_dim, dtype=float) * scale_factor), in float32.
        scale = MathF.Sqrt(HeadDim * c.ScaleFactor);
    }

    public Linear QueryProj { get; }
    public Linear KeyProj { get; }
    public Linear ValueProj { get; }

    /// <summary>pos_key_proj: null when share_att_key (key_proj serves) or without c2p.</summary>
    public Linear? PosKeyProj { get; }

    /// <summary>pos_query_proj: null when share_att_key (query_proj serves) or without p2c.</summary>
    public Linear? PosQueryProj { get; }

    public Linear AttentionOutput { get; }
    public LayerNorm AttentionNorm { get; }
    public Linear Intermediate { get; }
    public ActivationFunction Activation { get; }
    public Linear Output { get; }
    public LayerNorm OutputNorm { get; }
    public int NumHeads { get; }
    public bool RelativeAttention { get; }
    public bool ContentToPosition { get; }
    public bool PositionToContent { get; }

    public int HiddenSize => QueryProj.InFeatures;

    public int HeadDim => HiddenSize / NumHeads;

    /// <summary>The divisor of every score term, sqrt(head_dim · scale_factor).</summary>
    public float Scale => scale;

    /// <summary>Runs the layer on a.Block.Input (B, T, C) into a.Block.Output (B, T, C).</summary>
    public void Forward(DebertaV2LayerActivations a, DisentangledAttentionContext ctx)
    {
        var x = a.Block;
        int btc = x.Batch * x.Seq * x.Hidden;
        if (x.Input.Length != btc || x.Output.Length != btc)
        {
            throw new ArgumentException($"DeBERTa layer buffers: input has {x.Input.Length} and output {x.Output.Length} elements, expected {btc} (B·T·C).", nameof(a));
        }
        QueryProj.Forward(x.Input.Span, x.Query.Span);                  // (B, T, C)
        KeyProj.Forward(x.Input.Span, x.Key.Span);                      // (B, T, C)
        ValueProj.Forward(x.Input.Span, x.Value.Span);                  // (B, T, C)
        Attend(a, ctx);                                                 // probs (B, H, T, T), context (B, T, C)

        AttentionOutput.Forward(x.Context.Span, x.AttentionResidual.Span);          // (B, T, C)
        AddInPlace(x.AttentionResidual, x.Input);                                   // + x
        AttentionNorm.Forward(x.AttentionResidual, x.AttentionNormOut, x.AttentionNormMean, x.AttentionNormRstd);
        Intermediate.Forward(x.AttentionNormOut.Span, x.IntermediatePre.Span);      // (B, T, I)
        Activation.Apply(x.IntermediatePre, x.IntermediateAct);                     // (B, T, I)
        Output.Forward(x.IntermediateAct.Span, x.OutputResidual.Span);              // (B, T, C)
        AddInPlace(x.OutputResidual, x.AttentionNormOut);                           // + h
        OutputNorm.Forward(x.OutputResidual, x.Output, x.OutputNormMean, x.OutputNormRstd);
    }

    /// <summary>DisentangledSelfAttention: scores, XSoftmax, context; heads read in place from (B, T, C).</summary>
    private void Attend(DebertaV2LayerActivations a, DisentangledAttentionContext ctx)
    {
        var x = a.Block;
        int batch = x.Batch, seq = x.Seq, heads = NumHeads, d = HeadDim, c = x.Hidden;
        int rows = 2 * ctx.Span;
        long tc = (long)seq * c;
        long tt = (long)seq * seq;
        long htt = heads * tt;
        long tr = (long)seq * rows;
        long htr = heads * tr;

        // Raw content scores Q_h · K_hᵀ (divided by the scale below, as transformers divides the product).
        for (int b = 0; b < batch; b++)
        {
            Gemm.SgemmStridedBatched(Transpose.No, Transpose.Yes, seq, seq, d, 1f,
                x.Query.Span.Slice((int)(b * tc), (int)tc), c, d,
                x.Key.Span.Slice((int)(b * tc), (int)tc), c, d,
                0f, x.AttentionProbs.Span.Slice((int)(b * htt), (int)htt), seq, tt, heads);
        }
        if (ContentToPosition)
        {
            (PosKeyProj ?? KeyProj).Forward(ctx.RelativeEmbeddings.Span, a.PositionKey.Span);        // (2S, C)
            for (int b = 0; b < batch; b++)
            {
                Gemm.SgemmStridedBatched(Transpose.No, Transpose.Yes, seq, rows, d, 1f,
                    x.Query.Span.Slice((int)(b * tc), (int)tc), c, d,
                    a.PositionKey.Span, c, d,
                    0f, a.ContentToPosition.Span.Slice((int)(b * htr), (int)htr), rows, tr, heads);
            }
        }
        if (PositionToContent)
        {
            (PosQueryProj ?? QueryProj).Forward(ctx.RelativeEmbeddings.Span, a.PositionQuery.Span);  // (2S, C)
            for (int b = 0; b < batch; b++)
            {
                Gemm.SgemmStridedBatched(Transpose.No, Transpose.Yes, seq, rows, d, 1f,
                    x.Key.Span.Slice((int)(b * tc), (int)tc), c, d,
                    a.PositionQuery.Span, c, d,
                    0f, a.PositionToContent.Span.Slice((int)(b * htr), (int)htr), rows, tr, heads);
            }
        }

        // Every (b, h, query) row: add the gathered relative terms, then XSoftmax.
        var probs = x.AttentionProbs;
        var c2p = a.ContentToPosition;
        var p2c = a.PositionToContent;
        bool useC2P = ContentToPosition, useP2C = PositionToContent;
        float s = scale;
        RowParallel.For(batch * heads * seq, seq, (start, count) =>
        {
            var p = probs.Span;
            var c2pAll = c2p.Span;
            var p2cAll = p2c.Span;
            var maskAll = ctx.AttentionMask.Span;
            var additiveAll = ctx.AdditiveMask.Span;
            for (int r = start; r < start + count; r++)
            {
                int b = r / (heads * seq);
                int bh = r / seq;
                int i = r % seq;
                var row = p.Slice(r * seq, seq);
                if (!maskAll.IsEmpty && maskAll[b * seq + i] == 0)
                {
                    row.Clear(); // XSoftmax: a padded query attends to nothing
                    continue;
                }
                var c2pRow = useC2P ? c2pAll.Slice((int)(bh * tr + (long)i * rows), rows) : default;
                var p2cRows = useP2C ? p2cAll.Slice((int)(bh * tr), (int)tr) : default;
                var c2pIndex = useC2P ? ctx.ContentToPositionIndex.AsSpan(i * seq, seq) : default;
                var p2cIndex = useP2C ? ctx.PositionToContentIndex.AsSpan(i * seq, seq) : default;
                for (int j = 0; j < seq; j++)
                {
                    float bias = 0f;
                    if (useC2P) bias = c2pRow[c2pIndex[j]] / s;
                    if (useP2C) bias += p2cRows[j * rows + p2cIndex[j]] / s;
                    row[j] = row[j] / s + bias;
                }
                Softmax.Rows(row, seq, additiveAll.IsEmpty ? ReadOnlySpan<float>.Empty : additiveAll.Slice(b * seq, seq), row);
            }
        });

        // Context: probs_h (T, T) · V_h (T, D) into the head's columns of (B, T, C).
        for (int b = 0; b < batch; b++)
        {
            Gemm.SgemmStridedBatched(Transpose.No, Transpose.No, seq, d, seq, 1f,
                x.AttentionProbs.Span.Slice((int)(b * htt), (int)htt), seq, tt,
                x.Value.Span.Slice((int)(b * tc), (int)tc), c, d,
                0f, x.Context.Span.Slice((int)(b * tc), (int)tc), c, d, heads);
        }
    }

    private static void AddInPlace(Memory<float> y, ReadOnlyMemory<float> x) =>
        RowParallel.For(y.Length, 1, (start, count) =>
            Elementwise.Add(y.Span.Slice(start, count), x.Span.Slice(start, count), y.Span.Slice(start, count)));
}

/// <summary>The buffers of the ConvLayer; every one distinct when kept for backward.</summary>
public sealed class DebertaV2ConvActivations
{
    public DebertaV2ConvActivations(ActivationArena arena, int batch, int seq, int hidden, int kernel, bool keepForBackward)
    {
        int btc = checked(batch * seq * hidden);
        Columns = arena.Take(checked(btc * kernel));
        ConvOut = arena.Take(btc);
        KeptForBackward = keepForBackward;
        if (keepForBackward)
        {
            Activated = arena.Take(btc);
            NormInput = arena.Take(btc);
            NormMean = arena.Take(batch * seq);
            NormRstd = arena.Take(batch * seq);
        }
        else
        {
            Activated = ConvOut;
            NormInput = ConvOut;
        }
    }

    public bool KeptForBackward { get; }

    public Memory<float> Columns { get; }      // (B·T, k·C), im2col of the input, grouped [group][tap][channel]
    public Memory<float> ConvOut { get; }      // (B, T, C), conv + bias, zeroed at padding
    public Memory<float> Activated { get; }    // (B, T, C), conv_act(ConvOut)
    public Memory<float> NormInput { get; }    // (B, T, C), residual + Activated
    public Memory<float> NormMean { get; }     // (B, T), empty when not kept
    public Memory<float> NormRstd { get; }     // (B, T), empty when not kept
}

/// <summary>
/// DeBERTa-v2's ConvLayer (conv_kernel_size > 0): a 1-D convolution over the sequence of the encoder's
/// input, zeroed at padding, conv_act, added to the first layer's output, LayerNorm, zeroed at padding.
/// Checkpoint names: conv.weight (C, C / groups, k), conv.bias, LayerNorm.
/// </summary>
public sealed class DebertaV2ConvLayer
{
    public DebertaV2ConvLayer(DebertaV2Config c, ParameterBuilder b)
    {
        Hidden = c.HiddenSize;
        KernelSize = c.ConvKernelSize!.Value;
        Groups = c.ConvGroups ?? 1;
        Activation = c.ConvActivation;
        // transformers leaves nn.Conv1d at torch's default (uniform) init; a missing conv here is drawn like a Linear.
        var conv = b.Prefix("conv");
        Weight = conv.Get("weight", [Hidden, Hidden / Groups, KernelSize], ParameterInit.Normal(c.InitializerRange));
        Bias = conv.Get("bias", [Hidden], ParameterInit.Zeros);
        LayerNorm = new LayerNorm(b.Prefix("LayerNorm"), Hidden, c.LayerNormEps);
    }

    public int Hidden { get; }
    public int KernelSize { get; }
    public int Groups { get; }
    public ActivationFunction Activation { get; }
    public Parameter Weight { get; }   // (C, C / groups, k)
    public Parameter Bias { get; }     // (C)
    public LayerNorm LayerNorm { get; }

    /// <summary>
    /// output (B, T, C) = LN(residual + act(mask · conv(input))) · mask. <paramref name="output"/> may be
    /// <paramref name="input"/> (the input is read into the columns first); an empty mask keeps every token.
    /// </summary>
    public void Forward(DebertaV2ConvActivations a, ReadOnlyMemory<float> input, ReadOnlyMemory<float> residual, ReadOnlySpan<int> mask,
        int batch, int seq, Memory<float> output)
    {
        int c = Hidden, k = KernelSize, pad = (k - 1) / 2;
        int cg = c / Groups;
        int kc = k * c;
        var columns = a.Columns.Span;
        var x = input.Span;
        // im2col, grouped so each group's (tap, channel) columns are contiguous: [g][tap][channel in group].
        for (int b = 0; b < batch; b++)
        {
            for (int t = 0; t < seq; t++)
            {
                var col = columns.Slice((b * seq + t) * kc, kc);
                for (int tap = 0; tap < k; tap++)
                {
                    int source = t + tap - pad;
                    bool inside = source >= 0 && source < seq;
                    for (int g = 0; g < Groups; g++)
                    {
                        var dst = col.Slice(g * k * cg + tap * cg, cg);
                        if (inside) x.Slice((b * seq + source) * c + g * cg, cg).CopyTo(dst);
                        else dst.Clear();
                    }
                }
            }
        }
        // Weights (C_out, C_in / g, k) as (C_out, k · C_in / g), matching the column order.
        var packed = new float[c * k * cg];
        var w = Weight.Value.Span;
        for (int o = 0; o < c; o++)
            for (int i = 0; i < cg; i++)
                for (int tap = 0; tap < k; tap++)
                    packed[o * k * cg + tap * cg + i] = w[(o * cg + i) * k + tap];
        var convOut = a.ConvOut.Span;
        Elementwise.BroadcastRow(Bias.Value.Span, convOut);
        for (int g = 0; g < Groups; g++)
        {
            Gemm.Sgemm(Transpose.No, Transpose.Yes, batch * seq, cg, k * cg, 1f,
                columns[(g * k * cg)..], kc, packed.AsSpan(g * cg * k * cg), k * cg,
                1f, convOut[(g * cg)..], c);
        }
        if (!mask.IsEmpty) DebertaV2Embeddings.ZeroMaskedRows(convOut, mask, c);
        Activation.Apply(a.ConvOut, a.Activated);
        Elementwise.Add(a.Activated.Span, residual.Span, a.NormInput.Span);
        LayerNorm.Forward(a.NormInput, output, a.NormMean, a.NormRstd);
        if (!mask.IsEmpty) DebertaV2Embeddings.ZeroMaskedRows(output.Span, mask, c);
    }
}

/// <summary>DebertaV2Encoder: the layers, the relative embeddings (+ their LayerNorm) and the optional ConvLayer.</summary>
public sealed class DebertaV2Encoder
{
    private readonly DebertaV2Config config;

    public DebertaV2Encoder(DebertaV2Config config, ParameterBuilder builder)
    {
        this.config = config;
        var layerBuilder = builder.Prefix("layer");
        Layers = Enumerable.Range(0, config.NumHiddenLayers).Select(i => new DebertaV2Layer(config, layerBuilder.Prefix(i))).ToList();
        if (config.RelativeAttention)
        {
            RelEmbeddings = new Embedding(builder.Prefix("rel_embeddings"), 2 * config.AttentionSpan, config.HiddenSize, ParameterInit.Normal(config.InitializerRange));
        }
        if (config.NormalizesRelativeEmbeddings) LayerNorm = new LayerNorm(builder.Prefix("LayerNorm"), config.HiddenSize, config.LayerNormEps);
        if (config.HasConvLayer) Conv = new DebertaV2ConvLayer(config, builder.Prefix("conv"));
    }

    public IReadOnlyList<DebertaV2Layer> Layers { get; }

    /// <summary>rel_embeddings (2S, C); null without relative attention.</summary>
    public Embedding? RelEmbeddings { get; }

    /// <summary>The relative embeddings' LayerNorm (norm_rel_ebd = "layer_norm"); null otherwise.</summary>
    public LayerNorm? LayerNorm { get; }

    /// <summary>The ConvLayer after the first layer (conv_kernel_size > 0); null otherwise.</summary>
    public DebertaV2ConvLayer? Conv { get; }

    /// <summary>
    /// The relative embeddings (normalised), relative-position gather indices and masks for a batch.
    /// <paramref name="relativeNormMean"/> / <paramref name="relativeNormRstd"/> (2S) keep the LayerNorm's
    /// statistics when non-empty.
    /// </summary>
    public DisentangledAttentionContext PrepareAttention(ActivationArena arena, int batch, int seq, IntTensor? attentionMask,
        Memory<float> relativeNormMean, Memory<float> relativeNormRstd)
    {
        int span = config.AttentionSpan;
        int rows = 2 * span;
        ReadOnlyMemory<float> relative = ReadOnlyMemory<float>.Empty;
        var c2pIndex = Array.Empty<int>();
        var p2cIndex = Array.Empty<int>();
        if (RelEmbeddings is not null)
        {
            relative = RelEmbeddings.Weight.Value.Memory;
            if (LayerNorm is not null)
            {
                var normed = arena.Take(rows * config.HiddenSize);                          // (2S, C)
                LayerNorm.Forward(relative, normed, relativeNormMean, relativeNormRstd);
                relative = normed;
            }
            var positions = DebertaV2RelativePositions.Build(seq, seq, config.PositionBuckets ?? -1, config.EffectiveMaxRelativePositions);
            c2pIndex = new int[seq * seq];
            p2cIndex = new int[seq * seq];
            for (int i = 0; i < seq; i++)
            {
                for (int j = 0; j < seq; j++)
                {
                    c2pIndex[i * seq + j] = Math.Clamp(positions[i * seq + j] + span, 0, rows - 1);
                    p2cIndex[i * seq + j] = Math.Clamp(-positions[j * seq + i] + span, 0, rows - 1);
                }
            }
        }
        ReadOnlyMemory<int> mask = ReadOnlyMemory<int>.Empty;
        ReadOnlyMemory<float> additive = ReadOnlyMemory<float>.Empty;
        if (attentionMask is not null)
        {
            mask = attentionMask.Memory;
            var a = arena.Take(attentionMask.Length);
            MultiHeadAttention.AdditiveMask(attentionMask.Span, a.Span);
            additive = a;
        }
        return new DisentangledAttentionContext
        {
            Batch = batch,
            Seq = seq,
            Span = span,
            RelativeEmbeddings = relative,
            ContentToPositionIndex = c2pIndex,
            PositionToContentIndex = p2cIndex,
            AttentionMask = mask,
            AdditiveMask = additive,
        };
    }

    /// <summary>
    /// Runs the layers (and the ConvLayer after the first). For inference one set of buffers serves
    /// every layer and <paramref name="embeddings"/> becomes scratch. With
    /// <paramref name="keepForBackward"/> each layer (and the ConvLayer) gets its own buffers, every
    /// intermediate is kept, and they are returned in <see cref="DebertaV2EncoderPass.KeptLayers"/> /
    /// <see cref="DebertaV2EncoderPass.KeptConv"/> for a backward pass; the embeddings are left intact.
    /// </summary>
    internal DebertaV2EncoderPass Run(ActivationArena arena, Memory<float> embeddings, DisentangledAttentionContext ctx,
        bool outputAttentions, bool outputHiddenStates, bool keepForBackward = false)
    {
        int batch = ctx.Batch, seq = ctx.Seq, hidden = config.HiddenSize, heads = config.NumAttentionHeads;
        var hiddenStates = outputHiddenStates ? new List<Tensor> { new(embeddings.ToArray(), batch, seq, hidden) } : null;
        var attentions = outputAttentions ? new List<Tensor>() : null;
        bool c2p = config.RelativeAttention && config.UsesContentToPosition;
        bool p2c = config.RelativeAttention && config.UsesPositionToContent;
        DebertaV2LayerActivations NewActivations() =>
            new(arena, batch, seq, hidden, heads, config.IntermediateSize, config.AttentionSpan, c2p, p2c, keepForBackward);
        var kept = keepForBackward ? new List<DebertaV2LayerActivations>(Layers.Count) : null;
        DebertaV2ConvActivations? keptConv = null;
        var shared = keepForBackward ? null : NewActivations();
        var current = embeddings;
        var other = keepForBackward ? Memory<float>.Empty : arena.Take(embeddings.Length);
        for (int i = 0; i < Layers.Count; i++)
        {
            var acts = shared ?? NewActivations();
            acts.Block.Input = current;
            if (!keepForBackward) acts.Block.Output = other;     // kept sets own their output buffer
            Layers[i].Forward(acts, ctx);
            kept?.Add(acts);
            attentions?.Add(new Tensor(acts.Block.AttentionProbs.ToArray(), batch, heads, seq, seq));
            if (i == 0 && Conv is not null)
            {
                var convActs = new DebertaV2ConvActivations(arena, batch, seq, hidden, Conv.KernelSize, keepForBackward);
                if (keepForBackward)
                {
                    var convOutput = arena.Take(embeddings.Length);                       // (B, T, C)
                    Conv.Forward(convActs, current, acts.Block.Output, ctx.AttentionMask.Span, batch, seq, convOutput);
                    keptConv = convActs;
                    current = convOutput;
                }
                else
                {
                    // The conv reads the encoder's input (still in `current`) and writes its result over it.
                    Conv.Forward(convActs, current, other, ctx.AttentionMask.Span, batch, seq, current);
                }
            }
            else if (keepForBackward)
            {
                current = acts.Block.Output;
            }
            else
            {
                (current, other) = (other, current);
            }
            hiddenStates?.Add(new Tensor(current.ToArray(), batch, seq, hidden));
        }
        return new DebertaV2EncoderPass
        {
            Pass = new EncoderPass { Batch = batch, Seq = seq, Hidden = hidden, LastHidden = current, HiddenStates = hiddenStates, Attentions = attentions },
            KeptLayers = kept,
            KeptConv = keptConv,
        };
    }
}

/// <summary>An encoder pass and, in training mode, the activations each layer kept for backward.</summary>
internal sealed class DebertaV2EncoderPass
{
    public required EncoderPass Pass { get; init; }

    /// <summary>One set per layer, in order (each layer's Block.Input is the previous output, or the ConvLayer's); null for inference.</summary>
    public IReadOnlyList<DebertaV2LayerActivations>? KeptLayers { get; init; }

    /// <summary>The ConvLayer's buffers in training mode; null without a ConvLayer or for inference.</summary>
    public DebertaV2ConvActivations? KeptConv { get; init; }
}

/// <summary>transformers' DebertaV2Model: embeddings and the disentangled-attention encoder (no pooler).</summary>
public sealed class DebertaV2Model : EncoderModel
{
    private readonly DebertaV2Config config;

    public DebertaV2Model(DebertaV2Config config, ParameterBuilder builder)
        : base(config, builder)
    {
        config.Validate();
        this.config = config;
        Embeddings = new DebertaV2Embeddings(config, builder.Prefix("embeddings"));
        Encoder = new DebertaV2Encoder(config, builder.Prefix("encoder"));
    }

    public new DebertaV2Config Config => config;

    public DebertaV2Embeddings Embeddings { get; }

    public DebertaV2Encoder Encoder { get; }

    public static DebertaV2Model FromPretrained(string path, FromPretrainedOptions? options = null) =>
        PretrainedLoader.Load(path, options, modelUsesPrefix: false, DebertaV2Config.Type, nameof(DebertaV2Model),
            (_, c, b) => new DebertaV2Model((DebertaV2Config)c, b), _ => false);

    public static DebertaV2Model FromConfig(DebertaV2Config config, int? seed = null) => new(config, ParameterBuilder.ForInitialization(seed));

    internal override EncoderPass Run(ModelInputs inputs, ActivationArena arena, bool outputAttentions, bool outputHiddenStates,
        bool firstTokensOnly, InferencePrecision precision)
    {
        // DeBERTa's disentangled attention has no packed inference form yet: every position is computed
        // in float32 whatever firstTokensOnly and precision say (both are permissions, not requirements).
        // Without absolute positions nothing bounds the length: relative distances are clamped to the span.
        int maxLength = config.PositionBiasedInput ? config.MaxPositionEmbeddings : int.MaxValue;
        var (batch, seq) = inputs.Validate(config.VocabSize, maxLength, config.TypeVocabSize > 0 ? config.TypeVocabSize : int.MaxValue,
            config.MaxPositionEmbeddings, lengthLimit: null);
        int e = config.EffectiveEmbeddingSize;
        int c = config.HiddenSize;
        var sum = arena.Take(batch * seq * e);                                          // (B, T, E)
        var embeddings = e == c ? sum : arena.Take(batch * seq * c);                    // (B, T, C)
        Embeddings.Forward(inputs.InputIds.Span, inputs.TokenTypeIds is null ? default : inputs.TokenTypeIds.Span,
            config.PositionBiasedInput ? EncoderRunner.PositionIds(inputs, batch, seq) : default,
            inputs.AttentionMask is null ? default : inputs.AttentionMask.Span,
            sum, embeddings, embeddings, Memory<float>.Empty, Memory<float>.Empty);
        var ctx = Encoder.PrepareAttention(arena, batch, seq, inputs.AttentionMask, Memory<float>.Empty, Memory<float>.Empty);
        return Encoder.Run(arena, embeddings, ctx, outputAttentions, outputHiddenStates).Pass;
    }
}

/// <summary>ContextPooler: the first token's hidden state → dropout (inactive at inference) → dense → pooler_hidden_act.</summary>
public sealed class ContextPooler
{
    public ContextPooler(DebertaV2Config config, ParameterBuilder builder)
    {
        int size = config.EffectivePoolerHiddenSize;
        Dense = new Linear(builder.Prefix("dense"), size, size, config.InitializerRange);
        Activation = config.PoolerActivation;
    }

    public Linear Dense { get; }

    public ActivationFunction Activation { get; }

    /// <summary>dense (B, C) = Dense(first); pooled (B, C) = act(dense); pooled may be dense.</summary>
    public void Forward(ReadOnlySpan<float> first, Memory<float> dense, Memory<float> pooled)
    {
        Dense.Forward(first, dense.Span);
        Activation.Apply(dense, pooled);
    }
}

/// <summary>
/// transformers' DebertaV2ForSequenceClassification: DeBERTa-v2, the ContextPooler (a top-level
/// "pooler"), dropout (inactive at inference) and a linear classifier. Its loss follows that class's own
/// rules (see <see cref="Loss"/>), which differ from BERT's when problem_type is unset.
/// </summary>
public sealed class DebertaV2ForSequenceClassification : SequenceClassificationModel
{
    public DebertaV2ForSequenceClassification(DebertaV2Config config, ParameterBuilder builder)
        : base(config, builder)
    {
        Deberta = new DebertaV2Model(config, builder.Prefix("deberta"));
        Pooler = new ContextPooler(config, builder.Prefix("pooler"));
        Classifier = new Linear(builder.Prefix("classifier"), config.HiddenSize, config.NumLabels, config.InitializerRange);
        Head = new FirstTokenClassificationHead(Pooler.Dense, Pooler.Activation, Classifier, inputDropout: 0, hiddenDropout: 0);
    }

    public DebertaV2Model Deberta { get; }

    public ContextPooler Pooler { get; }

    public Linear Classifier { get; }

    public new DebertaV2Config Config => Deberta.Config;

    private protected override EncoderModel BaseEncoder => Deberta;

    private protected override FirstTokenClassificationHead Head { get; }

    public static DebertaV2ForSequenceClassification FromPretrained(string path, FromPretrainedOptions? options = null) =>
        PretrainedLoader.Load(path, options, modelUsesPrefix: true, DebertaV2Config.Type, nameof(DebertaV2ForSequenceClassification),
            (_, c, b) => new DebertaV2ForSequenceClassification((DebertaV2Config)c, b), AutoModelForSequenceClassification.IsHeadParameter);

    public static DebertaV2ForSequenceClassification FromConfig(DebertaV2Config config, int? seed = null) => new(config, ParameterBuilder.ForInitialization(seed));

    private protected override float ComputeLoss(Tensor logits, ITensor labels) => Loss(Config, logits, labels);

    /// <summary>
    /// DebertaV2ForSequenceClassification's loss. With problem_type set it is BERT's
    /// (<see cref="SequenceClassificationLoss"/>). Unset, it stays unset and: num_labels == 1 → MSE of
    /// the flattened logits and labels; labels of shape (B) or (B, 1) → cross-entropy over the rows whose
    /// label is ≥ 0 (any negative label is skipped; 0 when none is left); labels (B, num_labels) → soft
    /// cross-entropy −mean(Σ labels · log_softmax(logits)).
    /// </summary>
    public static float Loss(PretrainedConfig config, Tensor logits, ITensor labels)
    {
        if (config.ProblemType is not null) return SequenceClassificationLoss.Compute(config, logits, labels);
        int batch = logits.Shape[0];
        int numLabels = logits.Shape[^1];
        if (numLabels == 1)
        {
            var targets = SequenceClassificationLoss.AsFloat(labels);
            if (targets.Length != logits.Length) throw SequenceClassificationLoss.LabelShape(labels, $"({batch},) regression targets");
            return Losses.MeanSquaredError(logits.Span, targets.Span);
        }
        if (labels.Rank == 1 || labels.Shape[^1] == 1)
        {
            if (labels.Length != batch) throw SequenceClassificationLoss.LabelShape(labels, $"({batch},) class indices");
            var kept = new List<int>();
            var classes = new List<int>();
            for (int n = 0; n < batch; n++)
            {
                // labels >= 0 picks the rows; labels.long() then truncates (float labels included).
                (bool keep, int label) = labels switch
                {
                    IntTensor ints => (ints.Span[n] >= 0, ints.Span[n]),
                    Tensor floats => (floats.Span[n] >= 0, (int)MathF.Truncate(floats.Span[n])),
                    _ => throw new ArgumentException($"Labels of type {labels.GetType().Name} are not supported.", nameof(labels)),
                };
                if (!keep) continue;
                kept.Add(n);
                classes.Add(label);
            }
            if (kept.Count == 0) return 0f;
            var gathered = new float[kept.Count * numLabels];
            for (int k = 0; k < kept.Count; k++) logits.Span.Slice(kept[k] * numLabels, numLabels).CopyTo(gathered.AsSpan(k * numLabels));
            return Losses.CrossEntropy(gathered, numLabels, classes.ToArray());
        }
        var soft = SequenceClassificationLoss.AsFloat(labels);
        if (soft.Length != logits.Length) throw SequenceClassificationLoss.LabelShape(labels, $"({batch}, {numLabels}) label distributions");
        double total = 0;
        for (int n = 0; n < batch; n++)
        {
            var row = logits.Span.Slice(n * numLabels, numLabels);
            var target = soft.Span.Slice(n * numLabels, numLabels);
            double max = double.NegativeInfinity;
            foreach (float v in row) max = Math.Max(max, v);
            double sumExp = 0;
            foreach (float v in row) sumExp += Math.Exp(v - max);
            double logSum = max + Math.Log(sumExp);
            for (int j = 0; j < numLabels; j++) total -= target[j] * (row[j] - logSum);
        }
        return (float)(total / batch);
    }
}

/// <summary>DeBERTa-v2's entry in <see cref="ModelRegistry"/>.</summary>
public static class DebertaV2Architecture
{
    public static ModelArchitecture Definition { get; } = new()
    {
        ModelType = DebertaV2Config.Type,
        BaseModelPrefix = "deberta",
        CreateConfig = () => new DebertaV2Config(),
        CreateBaseModel = (config, builder) => new DebertaV2Model(As(config), builder),
        CreateForSequenceClassification = (config, builder) => new DebertaV2ForSequenceClassification(As(config), builder),
    };

    private static DebertaV2Config As(PretrainedConfig config) =>
        config as DebertaV2Config ?? throw new ArgumentException($"A DeBERTa-v2 model needs a DebertaV2Config, got {config.GetType().Name}.", nameof(config));
}
