using Sharpformers.Tokenizers.Decoders;
using Sharpformers.Tokenizers.Models;
using Sharpformers.Tokenizers.Normalizers;
using Sharpformers.Tokenizers.PostProcessors;
using Sharpformers.Tokenizers.PreTokenizers;
using Sharpformers.Tokenizers.SentencePiece;
using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.Serialization;

/// <summary>
/// The tokenizer.json pipeline transformers' <c>convert_slow_tokenizer</c> builds for a vocabulary-file
/// tokenizer (BertConverter, RobertaConverter, GPT2Converter, AlbertConverter, XLMRobertaConverter,
/// DebertaV2Converter), used by SavePretrained so the saved folder loads back as a fast tokenizer.
/// </summary>
internal static class SlowTokenizerConverter
{
    /// <summary>The converted pipeline, or null when the tokenizer has no tokenizer.json form (SentencePiece BPE models).</summary>
    public static TokenizerPipeline? Convert(PreTrainedTokenizer tokenizer)
    {
        var p = tokenizer.Pipeline;
        var specials = tokenizer.SpecialTokens;
        return p.Model switch
        {
            WordPieceModel wordPiece => ConvertBert(tokenizer, wordPiece),
            BpeModel bpe => ConvertByteLevel(tokenizer, bpe),
            SentencePieceModel spm => ConvertSentencePiece(tokenizer, spm, specials),
            _ => null,
        };
    }

    private static TokenizerPipeline ConvertBert(PreTrainedTokenizer tokenizer, WordPieceModel model)
    {
        var entries = tokenizer.ConfigEntries;
        bool lower = Bool(entries, "do_lower_case") ?? true;
        bool chinese = Bool(entries, "tokenize_chinese_chars") ?? true;
        bool? strip = Bool(entries, "strip_accents");
        string cls = tokenizer.SpecialTokens.ClsToken!.Content, sep = tokenizer.SpecialTokens.SepToken!.Content;
        return new TokenizerPipeline(new WordPieceModel(model.Vocab, model.UnkToken, model.ContinuingSubwordPrefix, model.MaxInputCharsPerWord),
            CopyAdded(tokenizer))
        {
            Normalizer = new BertNormalizer(true, chinese, strip, lower),
            PreTokenizer = new BertPreTokenizer(),
            PostProcessor = BertTemplate(cls, tokenizer.ConvertTokenToId(cls), sep, tokenizer.ConvertTokenToId(sep)),
            Decoder = new WordPieceDecoder(model.ContinuingSubwordPrefix),
        };
    }

    private static TokenizerPipeline ConvertByteLevel(PreTrainedTokenizer tokenizer, BpeModel model)
    {
        bool addPrefixSpace = Bool(tokenizer.ConfigEntries, "add_prefix_space") ?? false;
        bool trimOffsets = Bool(tokenizer.ConfigEntries, "trim_offsets") ?? true;
        IPostProcessor post = tokenizer.Pipeline.PostProcessor is RobertaProcessing r
            ? new RobertaProcessing(r.Sep.Token, r.Sep.Id, r.Cls.Token, r.Cls.Id, trimOffsets, addPrefixSpace)
            : new ByteLevelProcessing(addPrefixSpace, trimOffsets: false);
        return new TokenizerPipeline(new BpeModel(model.Vocab, model.Merges, unkToken: null, continuingSubwordPrefix: "", endOfWordSuffix: ""),
            CopyAdded(tokenizer))
        {
            PreTokenizer = new ByteLevelPreTokenizer(addPrefixSpace, trimOffsets),
            PostProcessor = post,
            Decoder = new ByteLevelDecoder(),
        };
    }

    private static TokenizerPipeline? ConvertSentencePiece(PreTrainedTokenizer tokenizer, SentencePieceModel model, SpecialTokens specials)
    {
        var proto = model.Processor.Proto;
        if (proto.ModelType != SentencePieceModelType.Unigram) return null;
        var entries = tokenizer.ConfigEntries;
        var pieces = new List<(string, double)>();
        int unkId = proto.UnkId;
        if (model.IdOffset > 0)
        {
            // XLM-R: fairseq's four specials, then the pieces after SentencePiece's own three, then <mask>.
            pieces.AddRange([("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]);
            pieces.AddRange(proto.Pieces.Skip(3).Select(p => (p.Piece, (double)p.Score)));
            pieces.Add(("<mask>", 0.0));
            unkId = 3;
        }
        else
        {
            pieces.AddRange(proto.Pieces.Select(p => (p.Piece, (double)p.Score)));
        }
        var normalizers = new List<INormalizer>();
        IPreTokenizer preTokenizer = new MetaspacePreTokenizer('▁', PrependScheme.Always);
        string cls = specials.ClsToken!.Content, sep = specials.SepToken!.Content;
        int clsId = tokenizer.ConvertTokenToId(cls), sepId = tokenizer.ConvertTokenToId(sep);
        IPostProcessor post;
        string className = tokenizer.TokenizerClass;
        if (className == "XLMRobertaTokenizer")
        {
            post = new TemplateProcessing(
                [TemplatePiece.SpecialToken(cls, 0), TemplatePiece.Sequence("A", 0), TemplatePiece.SpecialToken(sep, 0)],
                [TemplatePiece.SpecialToken(cls, 0), TemplatePiece.Sequence("A", 0), TemplatePiece.SpecialToken(sep, 0),
                    TemplatePiece.SpecialToken(sep, 0), TemplatePiece.Sequence("B", 0), TemplatePiece.SpecialToken(sep, 0)],
                Specials((cls, clsId), (sep, sepId)));
        }
        else
        {
            post = BertTemplate(cls, clsId, sep, sepId);
        }
        if (className == "AlbertTokenizer")
        {
            normalizers.Add(new ReplaceNormalizer(SplitPattern.FromString("``"), "\""));
            normalizers.Add(new ReplaceNormalizer(SplitPattern.FromString("''"), "\""));
            if (!(Bool(entries, "keep_accents") ?? false))
            {
                normalizers.Add(new NfkdNormalizer());
                normalizers.Add(new StripAccentsNormalizer());
            }
            if (Bool(entries, "do_lower_case") ?? true) normalizers.Add(new LowercaseNormalizer());
        }
        else if (className == "DebertaV2Tokenizer")
        {
            if (Bool(entries, "do_lower_case") ?? false) normalizers.Add(new LowercaseNormalizer());
            normalizers.Add(new StripNormalizer());
            if (Bool(entries, "split_by_punct") ?? false)
            {
                preTokenizer = new SequencePreTokenizer([new PunctuationPreTokenizer(), preTokenizer]);
            }
        }
        if (proto.PrecompiledCharsmap is { Length: > 0 } blob) normalizers.Add(new PrecompiledNormalizer(PrecompiledCharsMap.Parse(blob, "SentencePiece model")));
        normalizers.Add(new ReplaceNormalizer(SplitPattern.FromRegex(" {2,}"), " "));
        return new TokenizerPipeline(new UnigramModel(pieces, unkId, proto.ByteFallback), CopyAdded(tokenizer))
        {
            Normalizer = new SequenceNormalizer(normalizers),
            PreTokenizer = preTokenizer,
            PostProcessor = post,
            Decoder = new MetaspaceDecoder('▁', PrependScheme.Always),
        };
    }

    private static TemplateProcessing BertTemplate(string cls, int clsId, string sep, int sepId) => new(
        [TemplatePiece.SpecialToken(cls, 0), TemplatePiece.Sequence("A", 0), TemplatePiece.SpecialToken(sep, 0)],
        [TemplatePiece.SpecialToken(cls, 0), TemplatePiece.Sequence("A", 0), TemplatePiece.SpecialToken(sep, 0),
            TemplatePiece.Sequence("B", 1), TemplatePiece.SpecialToken(sep, 1)],
        Specials((cls, clsId), (sep, sepId)));

    private static Dictionary<string, TemplateSpecialToken> Specials(params (string Token, int Id)[] tokens)
    {
        var map = new Dictionary<string, TemplateSpecialToken>(StringComparer.Ordinal);
        foreach (var (token, id) in tokens) map[token] = new TemplateSpecialToken(token, [id], [token]);
        return map;
    }

    private static AddedVocabulary CopyAdded(PreTrainedTokenizer tokenizer)
    {
        var added = new AddedVocabulary();
        foreach (var (id, token) in tokenizer.AddedTokensDecoder) added.Add(token, id);
        return added;
    }

    private static bool? Bool(System.Text.Json.Nodes.JsonObject entries, string key) =>
        entries.TryGetPropertyValue(key, out var node) && node is System.Text.Json.Nodes.JsonValue v
            && v.TryGetValue(out bool b) ? b : null;
}
