using System.Text.Json.Nodes;
using Sharpformers.Tokenizers.PostProcessors;

namespace Sharpformers.Tokenizers;

/// <summary>
/// A ready-to-use tokenizer, transformers' <c>PreTrainedTokenizer</c>/<c>PreTrainedTokenizerFast</c> in .NET
/// shape: call it on texts (<see cref="Call(IReadOnlyList{string}, IReadOnlyList{string}?, EncodeOptions?)"/>)
/// to get model inputs, or use <see cref="Tokenize"/>, <see cref="Encode"/>, <see cref="Decode"/>,
/// <see cref="ConvertIdsToTokens(IReadOnlyList{int}, bool)"/> and <see cref="SavePretrained"/>. Built by
/// <see cref="AutoTokenizer.FromPretrained"/>. Thread-safe for encoding and decoding.
/// </summary>
public sealed partial class PreTrainedTokenizer
{
    /// <summary>transformers' VERY_LARGE_INTEGER, the model_max_length of tokenizers that state none.</summary>
    public const long UnboundedModelMaxLength = long.MaxValue;

    internal PreTrainedTokenizer(TokenizerPipeline pipeline, SpecialTokens specialTokens, string tokenizerClass, bool isFast)
    {
        Pipeline = pipeline;
        SpecialTokens = specialTokens;
        TokenizerClass = tokenizerClass;
        IsFast = isFast;
    }

    /// <summary>The Normalizer → PreTokenizer → Model → PostProcessor → Decoder pipeline.</summary>
    public TokenizerPipeline Pipeline { get; }

    /// <summary>The named special tokens.</summary>
    public SpecialTokens SpecialTokens { get; }

    /// <summary>The transformers class this tokenizer reproduces, e.g. "BertTokenizer".</summary>
    public string TokenizerClass { get; }

    /// <summary>
    /// True when loaded from tokenizer.json (the Rust pipeline of transformers' fast tokenizers), false when
    /// built from vocabulary files with the behaviour of the Python (slow) tokenizers.
    /// </summary>
    public bool IsFast { get; }

    /// <summary>Maximum sequence length of the model (tokenizer_config.json's model_max_length).</summary>
    public long ModelMaxLength { get; set; } = UnboundedModelMaxLength;

    public Side PaddingSide { get; set; } = Side.Right;

    public Side TruncationSide { get; set; } = Side.Right;

    /// <summary>What a call returns besides input_ids, e.g. ["input_ids", "token_type_ids", "attention_mask"].</summary>
    public IReadOnlyList<string> ModelInputNames { get; set; } = ["input_ids", "token_type_ids", "attention_mask"];

    /// <summary>Whether <see cref="Decode"/> removes spaces before punctuation by default.</summary>
    public bool CleanUpTokenizationSpaces { get; set; } = true;

    /// <summary>Type id given to padding tokens.</summary>
    public int PadTokenTypeId { get; set; }

    /// <summary>The Python class's convert_tokens_to_string, used by <see cref="Decode"/> for vocab-file tokenizers.</summary>
    internal Decoders.ISlowTokenDecoder? SlowDecoder { get; init; }

    /// <summary>Python's <c>vocab_size</c> (the base vocabulary) for the slow decoding rules; null: the model's.</summary>
    internal int? SlowVocabSize { get; init; }

    /// <summary>Other tokenizer_config.json entries (do_lower_case, add_prefix_space...), written back by <see cref="SavePretrained"/>.</summary>
    internal JsonObject ConfigEntries { get; init; } = [];

    /// <summary>Vocabulary files to write back as they are (e.g. a SentencePiece model): name to bytes.</summary>
    internal Dictionary<string, byte[]> RawVocabFiles { get; init; } = [];

    public int? PadTokenId => IdOf(SpecialTokens.PadToken);

    public int? UnkTokenId => IdOf(SpecialTokens.UnkToken);

    public int? ClsTokenId => IdOf(SpecialTokens.ClsToken);

    public int? SepTokenId => IdOf(SpecialTokens.SepToken);

    public int? MaskTokenId => IdOf(SpecialTokens.MaskToken);

    public int? BosTokenId => IdOf(SpecialTokens.BosToken);

    public int? EosTokenId => IdOf(SpecialTokens.EosToken);

    /// <summary>Every special token string (all_special_tokens).</summary>
    public IReadOnlyList<string> AllSpecialTokens => SpecialTokens.All.Select(t => t.Content).ToArray();

    /// <summary>Their ids (all_special_ids).</summary>
    public IReadOnlyList<int> AllSpecialIds => SpecialTokens.All.Select(t => ConvertTokenToId(t.Content)).ToArray();

    /// <summary>Size of the base vocabulary, without added tokens (vocab_size).</summary>
    public int VocabSize => SlowVocabSize ?? Pipeline.Model.VocabSize;

    /// <summary>Size of the full vocabulary, added tokens included (len(tokenizer)).</summary>
    public int Count => GetVocab().Count;

    /// <summary>The full vocabulary, token to id, added tokens included.</summary>
    public IReadOnlyDictionary<string, int> GetVocab()
    {
        var vocab = new Dictionary<string, int>(Pipeline.Model.GetVocab(), StringComparer.Ordinal);
        foreach (var (id, token) in Pipeline.AddedVocabulary.AddedTokensDecoder) vocab[token.Content] = id;
        return vocab;
    }

    /// <summary>The added tokens by id (added_tokens_decoder).</summary>
    public IReadOnlyDictionary<int, AddedToken> AddedTokensDecoder => Pipeline.AddedVocabulary.AddedTokensDecoder;

    /// <summary>How many special tokens encoding adds to one sequence or to a pair.</summary>
    public int NumSpecialTokensToAdd(bool pair = false) => Pipeline.NumSpecialTokensToAdd(pair);

    /// <summary>Adds tokens to the vocabulary (add_tokens); returns how many were new.</summary>
    public int AddTokens(IEnumerable<AddedToken> tokens)
    {
        int added = 0;
        foreach (var token in tokens)
        {
            if (Pipeline.AddedVocabulary.TokenToId(token.Content) is null && Pipeline.Model.TokenToId(token.Content) is null) added++;
            Pipeline.AddedVocabulary.Add(token, Pipeline.Model);
        }
        return added;
    }

    /// <summary>Adds plain (non-special) tokens.</summary>
    public int AddTokens(params string[] tokens) => AddTokens(tokens.Select(t => new AddedToken(t)));

    /// <summary>Splits a text into tokens (tokenize): the model's pieces, without special tokens by default.</summary>
    public string[] Tokenize(string text, string? textPair = null, bool addSpecialTokens = false)
    {
        var encoding = EncodeOne(text, textPair, new EncodeOptions { AddSpecialTokens = addSpecialTokens }, out _);
        return encoding.Tokens;
    }

    /// <summary>The ids of a text or pair (encode), special tokens included by default.</summary>
    public int[] Encode(string text, string? textPair = null, bool addSpecialTokens = true, Truncation truncation = default,
        int? maxLength = null)
    {
        var options = new EncodeOptions { AddSpecialTokens = addSpecialTokens, Truncation = truncation, MaxLength = maxLength };
        return Call([text], textPair is null ? null : [textPair], options).InputIds[0];
    }

    /// <summary>Encodes one text (or one pair) into model inputs: transformers' <c>tokenizer(text, ...)</c>.</summary>
    public BatchEncoding Call(string text, string? textPair = null, bool addSpecialTokens = true, Padding padding = default,
        Truncation truncation = default, int? maxLength = null, int stride = 0, int? padToMultipleOf = null,
        bool returnOverflowingTokens = false) =>
        Call([text ?? throw new ArgumentNullException(nameof(text))], textPair is null ? null : [textPair], new EncodeOptions
        {
            AddSpecialTokens = addSpecialTokens,
            Padding = padding,
            Truncation = truncation,
            MaxLength = maxLength,
            Stride = stride,
            PadToMultipleOf = padToMultipleOf,
            ReturnOverflowingTokens = returnOverflowingTokens,
        });

    /// <summary>Encodes a batch of texts (or of pairs): transformers' <c>tokenizer([texts], ...)</c>.</summary>
    public BatchEncoding Call(IReadOnlyList<string> texts, IReadOnlyList<string>? textPairs = null, bool addSpecialTokens = true,
        Padding padding = default, Truncation truncation = default, int? maxLength = null, int stride = 0,
        int? padToMultipleOf = null, bool returnOverflowingTokens = false, int maxDegreeOfParallelism = 1) =>
        Call(texts, textPairs, new EncodeOptions
        {
            AddSpecialTokens = addSpecialTokens,
            Padding = padding,
            Truncation = truncation,
            MaxLength = maxLength,
            Stride = stride,
            PadToMultipleOf = padToMultipleOf,
            ReturnOverflowingTokens = returnOverflowingTokens,
            MaxDegreeOfParallelism = maxDegreeOfParallelism,
        });

    /// <summary>Encodes a batch with the given options; the core of every call.</summary>
    public BatchEncoding Call(IReadOnlyList<string> texts, IReadOnlyList<string>? textPairs, EncodeOptions? options)
    {
        ArgumentNullException.ThrowIfNull(texts);
        options ??= new EncodeOptions();
        if (textPairs is not null && textPairs.Count != texts.Count)
        {
            throw new ArgumentException($"got {texts.Count} texts but {textPairs.Count} text pairs; they must pair up one to one", nameof(textPairs));
        }
        for (int i = 0; i < texts.Count; i++)
        {
            if (texts[i] is null) throw new ArgumentException($"text {i} is null", nameof(texts));
            if (textPairs is not null && textPairs[i] is null) throw new ArgumentException($"text pair {i} is null", nameof(textPairs));
        }
        var plan = Plan(options);
        var perInput = new Encoding[texts.Count];
        void EncodeAt(int i) => perInput[i] = EncodeTruncated(texts[i], textPairs?[i], options, plan);
        if (options.MaxDegreeOfParallelism > 1 && texts.Count > 1)
        {
            Parallel.For(0, texts.Count, new ParallelOptions { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism }, EncodeAt);
        }
        else
        {
            for (int i = 0; i < texts.Count; i++) EncodeAt(i);
        }
        var rows = new List<Encoding>(texts.Count);
        var mapping = options.ReturnOverflowingTokens ? new List<int>() : null;
        for (int i = 0; i < perInput.Length; i++)
        {
            rows.Add(perInput[i]);
            mapping?.Add(i);
            if (!options.ReturnOverflowingTokens) continue;
            foreach (var window in perInput[i].Overflowing)
            {
                rows.Add(window);
                mapping!.Add(i);
            }
        }
        PadRows(rows, plan, options);
        return new BatchEncoding(rows, ModelInputNames, mapping?.ToArray());
    }

    private Encoding EncodeOne(string text, string? pair, EncodeOptions options, out ResolvedPlan plan)
    {
        plan = Plan(options);
        return EncodeTruncated(text, pair, options, plan);
    }

    private int? IdOf(AddedToken? token) => token is null ? null : Pipeline.TokenToId(token.Content);
}
