using Sharpformers.Tensors;
using Sharpformers.Tokenizers;

namespace Sharpformers.Models;

/// <summary>
/// A batch for a model's forward pass, with HF's names: what <c>model(**inputs)</c> receives.
/// All tensors are (batch, sequence); AttentionMask is 1 for real tokens and 0 for padding.
/// </summary>
public sealed class ModelInputs
{
    public ModelInputs()
    {
    }

    [System.Diagnostics.CodeAnalysis.SetsRequiredMembers]
    public ModelInputs(IntTensor inputIds, IntTensor? attentionMask = null, IntTensor? tokenTypeIds = null)
    {
        InputIds = inputIds;
        AttentionMask = attentionMask;
        TokenTypeIds = tokenTypeIds;
    }

    /// <summary>(B, T) token ids.</summary>
    public required IntTensor InputIds { get; init; }

    /// <summary>(B, T) 1 = attend, 0 = padding; null attends to every position.</summary>
    public IntTensor? AttentionMask { get; init; }

    /// <summary>(B, T) segment ids (BERT); null means all 0.</summary>
    public IntTensor? TokenTypeIds { get; init; }

    /// <summary>(B, T) explicit positions; null means 0..T-1 for every sequence.</summary>
    public IntTensor? PositionIds { get; init; }

    /// <summary>Batch size B.</summary>
    public int BatchSize => InputIds.Rank == 1 ? 1 : InputIds.Shape[0];

    /// <summary>Sequence length T.</summary>
    public int SequenceLength => InputIds.Shape[^1];

    /// <summary>
    /// The tensors of a tokenizer's output (what <c>model(**inputs)</c> unpacks): input_ids,
    /// attention_mask and token_type_ids when the tokenizer returns them. The batch must be rectangular
    /// (encode with padding when the texts differ in length).
    /// </summary>
    public static ModelInputs FromBatchEncoding(BatchEncoding encoding)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        if (encoding.Count == 0) throw new ArgumentException("The batch encoding holds no sequences.", nameof(encoding));
        if (!encoding.IsRectangular)
        {
            throw new ArgumentException(
                "The batch encoding's rows have different lengths; encode with padding: true to build a (batch, sequence) tensor.", nameof(encoding));
        }
        int batch = encoding.Count;
        int seq = encoding.SequenceLength;
        return new ModelInputs
        {
            InputIds = new IntTensor(BatchEncoding.Flatten(encoding.InputIds), batch, seq),
            AttentionMask = new IntTensor(BatchEncoding.Flatten(encoding.AttentionMask), batch, seq),
            TokenTypeIds = encoding.TokenTypeIds is null ? null : new IntTensor(BatchEncoding.Flatten(encoding.TokenTypeIds), batch, seq),
        };
    }

    public static implicit operator ModelInputs(BatchEncoding encoding) => FromBatchEncoding(encoding);

    /// <summary>Builds inputs from unpadded rows of ids, padding to the longest with <paramref name="padTokenId"/> and masking the padding.</summary>
    public static ModelInputs FromIds(IReadOnlyList<IReadOnlyList<int>> ids, int padTokenId = 0, IReadOnlyList<IReadOnlyList<int>>? tokenTypeIds = null)
    {
        int batch = ids.Count;
        int seq = ids.Count == 0 ? 0 : ids.Max(r => r.Count);
        var inputIds = new int[batch * seq];
        var mask = new int[batch * seq];
        var types = tokenTypeIds is null ? null : new int[batch * seq];
        inputIds.AsSpan().Fill(padTokenId);
        for (int b = 0; b < batch; b++)
        {
            for (int t = 0; t < ids[b].Count; t++)
            {
                inputIds[b * seq + t] = ids[b][t];
                mask[b * seq + t] = 1;
                if (types is not null) types[b * seq + t] = tokenTypeIds![b][t];
            }
        }
        return new ModelInputs
        {
            InputIds = new IntTensor(inputIds, batch, seq),
            AttentionMask = new IntTensor(mask, batch, seq),
            TokenTypeIds = types is null ? null : new IntTensor(types, batch, seq),
        };
    }

    /// <summary>Checks shapes and value ranges against the model; ArgumentException naming the input otherwise.</summary>
    internal (int Batch, int Seq) Validate(int vocabSize, int maxPositions, int typeVocabSize) =>
        Validate(vocabSize, maxPositions, typeVocabSize, maxPositions, lengthLimit: null);

    /// <summary>
    /// As <see cref="Validate(int, int, int)"/> for models whose longest input is not the position
    /// table's size (RoBERTa's positions start after padding_idx; DeBERTa-v2 without absolute positions
    /// has no limit). <paramref name="lengthLimit"/> explains <paramref name="maxPositions"/> in the
    /// message; <paramref name="positionTableSize"/> bounds explicit position_ids.
    /// </summary>
    internal (int Batch, int Seq) Validate(int vocabSize, int maxPositions, int typeVocabSize, int positionTableSize, string? lengthLimit)
    {
        if (InputIds.Rank is not (1 or 2))
        {
            throw new ArgumentException($"input_ids must be (batch, sequence); got shape {TensorShape.Format(InputIds.Shape.ToArray())}.");
        }
        int batch = BatchSize;
        int seq = SequenceLength;
        if (batch == 0 || seq == 0)
        {
            throw new ArgumentException($"input_ids is empty (shape {TensorShape.Format(InputIds.Shape.ToArray())}); a forward pass needs at least one token.");
        }
        if (seq > maxPositions)
        {
            throw new ArgumentException(
                $"The sequence has {seq} tokens but the model has {lengthLimit ?? $"max_position_embeddings = {maxPositions} (config.json)"}; truncate the input (truncation=True).");
        }
        CheckRange(InputIds, "input_ids", vocabSize, "vocab_size");
        CheckShape(AttentionMask, "attention_mask", batch, seq);
        if (AttentionMask is not null)
        {
            foreach (int m in AttentionMask.Span)
            {
                if (m is not (0 or 1)) throw new ArgumentException($"attention_mask must hold 0 and 1 only, found {m}.");
            }
        }
        CheckShape(TokenTypeIds, "token_type_ids", batch, seq);
        if (TokenTypeIds is not null) CheckRange(TokenTypeIds, "token_type_ids", typeVocabSize, "type_vocab_size");
        CheckShape(PositionIds, "position_ids", batch, seq);
        if (PositionIds is not null) CheckRange(PositionIds, "position_ids", positionTableSize, "max_position_embeddings");
        return (batch, seq);
    }

    private static void CheckShape(IntTensor? tensor, string name, int batch, int seq)
    {
        if (tensor is null) return;
        if (tensor.Length != batch * seq || tensor.Shape[^1] != seq)
        {
            throw new ArgumentException($"{name} has shape {TensorShape.Format(tensor.Shape.ToArray())}, but input_ids is ({batch}, {seq}).");
        }
    }

    private static void CheckRange(IntTensor tensor, string name, int limit, string limitName)
    {
        var span = tensor.Span;
        for (int i = 0; i < span.Length; i++)
        {
            if ((uint)span[i] >= (uint)limit)
            {
                throw new ArgumentException($"{name} holds {span[i]} at position {i}, outside [0, {limit}) ({limitName} in config.json).");
            }
        }
    }
}
