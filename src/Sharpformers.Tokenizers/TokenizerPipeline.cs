using Sharpformers.Tokenizers.Decoders;
using Sharpformers.Tokenizers.Models;
using Sharpformers.Tokenizers.Normalizers;
using Sharpformers.Tokenizers.PostProcessors;
using Sharpformers.Tokenizers.PreTokenizers;
using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers;

/// <summary>
/// The tokenization pipeline of Hugging Face's <c>tokenizers.Tokenizer</c>: added tokens are cut out, the rest
/// goes through Normalizer → PreTokenizer → Model, then the PostProcessor adds special tokens; the Decoder
/// turns tokens back into text. Thread-safe for encoding and decoding once built.
/// </summary>
public sealed class TokenizerPipeline
{
    public TokenizerPipeline(ITokenizerModel model, AddedVocabulary? addedVocabulary = null)
    {
        Model = model;
        AddedVocabulary = addedVocabulary ?? new AddedVocabulary();
    }

    [ThreadStatic]
    private static EncodingBuilder? threadBuilder;

    public ITokenizerModel Model { get; }

    public AddedVocabulary AddedVocabulary { get; }

    public INormalizer? Normalizer { get; init; }

    public IPreTokenizer? PreTokenizer { get; init; }

    public IPostProcessor? PostProcessor { get; init; }

    public IDecoder? Decoder { get; init; }

    /// <summary>True when encoding uses a fused path (BERT or byte-level BPE; same results as the stages run one by one).</summary>
    public bool HasFusedPath => FastPath is not null;

    /// <summary>A fused implementation of Normalizer + PreTokenizer + Model giving identical results, when one applies.</summary>
    internal IFusedEncoder? FastPath { get; set; }

    /// <summary>
    /// The Python byte-level tokenizers' <c>add_prefix_space</c>: a space goes before the whole text (unless it
    /// starts with whitespace) before added tokens are cut out.
    /// </summary>
    internal bool PythonAddPrefixSpace { get; init; }

    /// <summary>Set to false to force the general path (tests compare both).</summary>
    public bool UseFastPath { get; set; } = true;

    /// <summary>The id of a token: added tokens first, then the model's vocabulary.</summary>
    public int? TokenToId(string token) => AddedVocabulary.TokenToId(token) ?? Model.TokenToId(token);

    /// <summary>The token of an id: added tokens first, then the model's vocabulary.</summary>
    public string? IdToToken(int id) => AddedVocabulary.IdToToken(id)?.Content ?? Model.IdToToken(id);

    /// <summary>Model vocabulary size, plus added tokens outside it when <paramref name="withAddedTokens"/>.</summary>
    public int GetVocabSize(bool withAddedTokens = true)
    {
        int size = Model.VocabSize;
        if (!withAddedTokens) return size;
        foreach (var (id, token) in AddedVocabulary.AddedTokensDecoder)
        {
            if (Model.TokenToId(token.Content) is null) size++;
        }
        return size;
    }

    /// <summary>
    /// Encodes one sequence without special tokens (Hugging Face's <c>encode_single_sequence</c>): every token
    /// gets <paramref name="typeId"/>, sequence id 0, its word index and its offsets into <paramref name="text"/>.
    /// </summary>
    public Encoding EncodeSequence(string text, int typeId = 0)
    {
        ArgumentNullException.ThrowIfNull(text);
        var builder = threadBuilder ??= new EncodingBuilder(256);
        builder.Clear();
        if (!(UseFastPath && FastPath is not null && TryFastPath(text, builder)))
        {
            builder.Clear();
            EncodeGeneral(text, builder);
        }
        return builder.Build(typeId);
    }

    /// <summary>Encodes a sequence or a pair, adding special tokens via the post-processor (no truncation, no padding).</summary>
    public Encoding Encode(string text, string? pair = null, bool addSpecialTokens = true)
    {
        var first = EncodeSequence(text, 0);
        var second = pair is null ? null : EncodeSequence(pair, 1);
        return EncodingMerger.Process(PostProcessor, first, second, addSpecialTokens);
    }

    /// <summary>The number of special tokens the post-processor adds.</summary>
    public int NumSpecialTokensToAdd(bool isPair) => PostProcessor?.AddedTokens(isPair) ?? 0;

    /// <summary>
    /// Decodes ids like Hugging Face's <c>Tokenizer::decode</c>: ids become tokens (special ones dropped when
    /// asked), the decoder chain runs, and its pieces are concatenated (joined with spaces without a decoder).
    /// </summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false)
    {
        var tokens = new List<string>();
        foreach (int id in ids)
        {
            string? token = IdToToken(id);
            if (token is null) continue;
            if (skipSpecialTokens && AddedVocabulary.IsSpecialToken(token)) continue;
            tokens.Add(token);
        }
        if (Decoder is null) return string.Join(' ', tokens);
        return string.Concat(Decoder.DecodeChain(tokens));
    }

    private bool TryFastPath(string text, EncodingBuilder builder)
    {
        if (AddedVocabulary.HasNormalizedTokens(Normalizer)) return false;
        // The Python byte-level tokenizers' prefix space goes before the added tokens are cut out: general path.
        if (PythonAddPrefixSpace && text.Length > 0 && !CharInfo.IsPythonSpace(text[0])) return false;
        var segments = AddedVocabulary.FindInRawText(text, Normalizer);
        int word = 0;
        if (segments is null) return FastPath!.TryEncode(text, 0, text.Length, builder, ref word);
        foreach (var (start, end, id) in segments)
        {
            if (id >= 0)
            {
                string value = AddedVocabulary.PythonSemantics ? AddedVocabulary.IdToToken(id)!.Content : text[start..end];
                builder.Add(id, value, start, end, word++);
            }
            else if (!FastPath!.TryEncode(text, start, end, builder, ref word))
            {
                return false;
            }
        }
        return true;
    }

    private void EncodeGeneral(string text, EncodingBuilder builder)
    {
        var pre = new PreTokenizedString(text);
        if (PythonAddPrefixSpace && text.Length > 0 && !CharInfo.IsPythonSpace(text[0])) pre.Splits[0].Normalized.Prepend(" ");
        AddedVocabulary.ExtractAndNormalize(Normalizer, pre);
        PreTokenizer?.PreTokenize(pre);
        var tokens = new List<Token>();
        for (int word = 0; word < pre.Splits.Count; word++)
        {
            var split = pre.Splits[word];
            IReadOnlyList<Token> splitTokens;
            if (split.Tokens is not null)
            {
                splitTokens = split.Tokens;
            }
            else
            {
                tokens.Clear();
                Model.Tokenize(split.Normalized.Normalized, tokens);
                splitTokens = tokens;
            }
            foreach (var token in splitTokens)
            {
                var (start, end) = split.Normalized.ToOriginal(token.Start, token.End);
                builder.Add(token.Id, token.Value, start, end, word);
            }
        }
    }
}

/// <summary>A fused Normalizer + PreTokenizer + Model that must give exactly what the general path gives.</summary>
internal interface IFusedEncoder
{
    /// <summary>
    /// Encodes text[start..end] into <paramref name="builder"/>, numbering words from <paramref name="word"/>;
    /// returns false (having possibly added tokens) when the text needs the general path.
    /// </summary>
    bool TryEncode(string text, int start, int end, EncodingBuilder builder, ref int word);
}

/// <summary>Collects tokens for an <see cref="Encoding"/> without per-token allocations.</summary>
internal sealed class EncodingBuilder(int capacity)
{
    private int[] ids = new int[capacity];
    private string[] tokens = new string[capacity];
    private (int, int)[] offsets = new (int, int)[capacity];
    private int[] words = new int[capacity];

    public int Count { get; private set; }

    public void Clear() => Count = 0;

    /// <summary>Drops the tokens added after <paramref name="count"/>.</summary>
    public void Truncate(int count) => Count = Math.Min(Count, count);

    public void Add(int id, string token, int start, int end, int word)
    {
        if (Count == ids.Length) Grow();
        ids[Count] = id;
        tokens[Count] = token;
        offsets[Count] = (start, end);
        words[Count] = word;
        Count++;
    }

    public Encoding Build(int typeId)
    {
        int n = Count;
        var typeIds = new int[n];
        if (typeId != 0) Array.Fill(typeIds, typeId);
        var attention = new int[n];
        Array.Fill(attention, 1);
        return new Encoding(ids[..n], typeIds, tokens[..n], offsets[..n], words[..n], new int[n], new int[n], attention);
    }

    private void Grow()
    {
        int size = Math.Max(16, ids.Length * 2);
        Array.Resize(ref ids, size);
        Array.Resize(ref tokens, size);
        Array.Resize(ref offsets, size);
        Array.Resize(ref words, size);
    }
}
