namespace Sharpformers.Tokenizers.Serialization;

/// <summary>The vocabulary-file layouts this library reads.</summary>
internal enum TokenizerFamily
{
    /// <summary>vocab.txt (BERT, DistilBERT, ELECTRA).</summary>
    WordPiece,

    /// <summary>vocab.json + merges.txt (RoBERTa, GPT-2).</summary>
    ByteLevelBpe,

    /// <summary>spiece.model (ALBERT).</summary>
    Albert,

    /// <summary>sentencepiece.bpe.model (XLM-RoBERTa).</summary>
    XlmRoberta,

    /// <summary>spm.model (DeBERTa-v2/v3).</summary>
    DebertaV2,
}

/// <summary>What a transformers tokenizer class needs: its family, model inputs and default special tokens.</summary>
internal sealed record TokenizerClassInfo(string Name, TokenizerFamily Family, string[] ModelInputNames, Func<SpecialTokens> Defaults)
{
    private static readonly string[] WithTypeIds = ["input_ids", "token_type_ids", "attention_mask"];
    private static readonly string[] WithoutTypeIds = ["input_ids", "attention_mask"];

    private static readonly Dictionary<string, TokenizerClassInfo> ByName = new TokenizerClassInfo[]
    {
        new("BertTokenizer", TokenizerFamily.WordPiece, WithTypeIds, BertDefaults),
        new("DistilBertTokenizer", TokenizerFamily.WordPiece, WithoutTypeIds, BertDefaults),
        new("ElectraTokenizer", TokenizerFamily.WordPiece, WithTypeIds, BertDefaults),
        new("RobertaTokenizer", TokenizerFamily.ByteLevelBpe, WithoutTypeIds, RobertaDefaults),
        new("GPT2Tokenizer", TokenizerFamily.ByteLevelBpe, WithoutTypeIds, Gpt2Defaults),
        new("AlbertTokenizer", TokenizerFamily.Albert, WithTypeIds, AlbertDefaults),
        new("XLMRobertaTokenizer", TokenizerFamily.XlmRoberta, WithoutTypeIds, RobertaDefaults),
        new("DebertaV2Tokenizer", TokenizerFamily.DebertaV2, WithTypeIds, DebertaV2Defaults),
    }.ToDictionary(c => c.Name, StringComparer.Ordinal);

    private static readonly Dictionary<string, string> ByModelType = new(StringComparer.Ordinal)
    {
        ["bert"] = "BertTokenizer",
        ["distilbert"] = "DistilBertTokenizer",
        ["electra"] = "ElectraTokenizer",
        ["roberta"] = "RobertaTokenizer",
        ["gpt2"] = "GPT2Tokenizer",
        ["albert"] = "AlbertTokenizer",
        ["xlm-roberta"] = "XLMRobertaTokenizer",
        ["deberta-v2"] = "DebertaV2Tokenizer",
    };

    public bool IsByteLevelGpt2 => Name == "GPT2Tokenizer";

    public static TokenizerClassInfo? FromName(string name) => ByName.GetValueOrDefault(name);

    public static string? ClassForModelType(string modelType) => ByModelType.GetValueOrDefault(modelType);

    public static IEnumerable<string> KnownClasses => ByName.Keys;

    private static AddedToken S(string content, bool lstrip = false) => new(content, LStrip: lstrip, Normalized: false, Special: true);

    private static SpecialTokens BertDefaults() => new()
    {
        UnkToken = S("[UNK]"),
        SepToken = S("[SEP]"),
        PadToken = S("[PAD]"),
        ClsToken = S("[CLS]"),
        MaskToken = S("[MASK]"),
    };

    private static SpecialTokens RobertaDefaults() => new()
    {
        BosToken = S("<s>"),
        EosToken = S("</s>"),
        SepToken = S("</s>"),
        ClsToken = S("<s>"),
        UnkToken = S("<unk>"),
        PadToken = S("<pad>"),
        MaskToken = S("<mask>", lstrip: true),
    };

    private static SpecialTokens Gpt2Defaults() => new()
    {
        BosToken = S("<|endoftext|>"),
        EosToken = S("<|endoftext|>"),
        UnkToken = S("<|endoftext|>"),
    };

    private static SpecialTokens AlbertDefaults() => new()
    {
        BosToken = S("[CLS]"),
        EosToken = S("[SEP]"),
        UnkToken = S("<unk>"),
        SepToken = S("[SEP]"),
        PadToken = S("<pad>"),
        ClsToken = S("[CLS]"),
        MaskToken = S("[MASK]", lstrip: true),
    };

    private static SpecialTokens DebertaV2Defaults() => new()
    {
        BosToken = S("[CLS]"),
        EosToken = S("[SEP]"),
        UnkToken = S("[UNK]"),
        SepToken = S("[SEP]"),
        PadToken = S("[PAD]"),
        ClsToken = S("[CLS]"),
        MaskToken = S("[MASK]"),
    };
}
