using System.Text.Json.Nodes;
using Sharpformers.Tokenizers.Decoders;
using Sharpformers.Tokenizers.Models;
using Sharpformers.Tokenizers.Normalizers;
using Sharpformers.Tokenizers.PostProcessors;
using Sharpformers.Tokenizers.PreTokenizers;
using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.Serialization;

/// <summary>Writes a <see cref="TokenizerPipeline"/> as a Hugging Face tokenizer.json (format version 1.0).</summary>
public static class TokenizerJsonWriter
{
    public static JsonObject Write(TokenizerPipeline pipeline)
    {
        var added = new JsonArray();
        foreach (var (id, t) in pipeline.AddedVocabulary.AddedTokensDecoder)
        {
            added.Add(new JsonObject
            {
                ["id"] = id,
                ["content"] = t.Content,
                ["single_word"] = t.SingleWord,
                ["lstrip"] = t.LStrip,
                ["rstrip"] = t.RStrip,
                ["normalized"] = t.Normalized,
                ["special"] = t.Special,
            });
        }
        return new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = pipeline.Normalizer is null ? null : Normalizer(pipeline.Normalizer),
            ["pre_tokenizer"] = pipeline.PreTokenizer is null ? null : PreTokenizer(pipeline.PreTokenizer),
            ["post_processor"] = pipeline.PostProcessor is null ? null : PostProcessor(pipeline.PostProcessor),
            ["decoder"] = pipeline.Decoder is null ? null : Decoder(pipeline.Decoder),
            ["model"] = Model(pipeline.Model),
        };
    }

    /// <summary>True when every component has a tokenizer.json form.</summary>
    public static bool CanWrite(TokenizerPipeline pipeline)
    {
        try
        {
            Write(pipeline);
            return true;
        }
        catch (NotSupportedException)
        {
            return false;
        }
    }

    private static JsonObject Typed(string type, params (string Key, JsonNode? Value)[] fields)
    {
        var o = new JsonObject { ["type"] = type };
        foreach (var (k, v) in fields) o[k] = v;
        return o;
    }

    public static JsonObject Normalizer(INormalizer n) => n switch
    {
        BertNormalizer b => Typed("BertNormalizer", ("clean_text", b.CleanText), ("handle_chinese_chars", b.HandleChineseChars),
            ("strip_accents", b.StripAccents), ("lowercase", b.Lowercase)),
        NfcNormalizer => Typed("NFC"),
        NfdNormalizer => Typed("NFD"),
        NfkcNormalizer => Typed("NFKC"),
        NfkdNormalizer => Typed("NFKD"),
        LowercaseNormalizer => Typed("Lowercase"),
        StripAccentsNormalizer => Typed("StripAccents"),
        StripNormalizer s => Typed("Strip", ("strip_left", s.Left), ("strip_right", s.Right)),
        ReplaceNormalizer r => Typed("Replace", ("pattern", Pattern(r.Pattern)), ("content", r.Content)),
        PrependNormalizer p => Typed("Prepend", ("prepend", p.Prepend)),
        PrecompiledNormalizer p => Typed("Precompiled", ("precompiled_charsmap", Convert.ToBase64String(p.CharsMap.Blob))),
        ByteLevelNormalizer => Typed("ByteLevel"),
        SequenceNormalizer s => Typed("Sequence", ("normalizers", new JsonArray(s.Normalizers.Select(x => (JsonNode?)Normalizer(x)).ToArray()))),
        _ => throw new NotSupportedException($"normalizer {n.GetType().Name} has no tokenizer.json form"),
    };

    public static JsonObject PreTokenizer(IPreTokenizer p) => p switch
    {
        BertPreTokenizer { NeverSplit: null or { Count: 0 } } => Typed("BertPreTokenizer"),
        ByteLevelPreTokenizer b => Typed("ByteLevel", ("add_prefix_space", b.AddPrefixSpace), ("trim_offsets", b.TrimOffsets), ("use_regex", b.UseRegex)),
        WhitespacePreTokenizer => Typed("Whitespace"),
        WhitespaceSplitPreTokenizer => Typed("WhitespaceSplit"),
        MetaspacePreTokenizer m => Typed("Metaspace", ("replacement", m.Replacement.ToString()),
            ("prepend_scheme", Scheme(m.PrependScheme)), ("split", m.SplitOnReplacement)),
        PunctuationPreTokenizer pu => Typed("Punctuation", ("behavior", pu.Behavior.ToString())),
        DigitsPreTokenizer d => Typed("Digits", ("individual_digits", d.IndividualDigits)),
        SplitPreTokenizer s => Typed("Split", ("pattern", Pattern(s.Pattern)), ("behavior", s.Behavior.ToString()), ("invert", s.Invert)),
        CharDelimiterSplitPreTokenizer c => Typed("CharDelimiterSplit", ("delimiter", c.Delimiter.ToString())),
        SequencePreTokenizer s => Typed("Sequence", ("pretokenizers", new JsonArray(s.PreTokenizers.Select(x => (JsonNode?)PreTokenizer(x)).ToArray()))),
        _ => throw new NotSupportedException($"pre-tokenizer {p.GetType().Name} has no tokenizer.json form"),
    };

    public static JsonObject Model(ITokenizerModel m)
    {
        switch (m)
        {
            case WordPieceModel w when w.NeverSplit is null or { Count: 0 }:
                return Typed("WordPiece", ("unk_token", w.UnkToken), ("continuing_subword_prefix", w.ContinuingSubwordPrefix),
                    ("max_input_chars_per_word", w.MaxInputCharsPerWord), ("vocab", VocabObject(w.Vocab)));
            case WordLevelModel w:
                return Typed("WordLevel", ("vocab", VocabObject(w.Vocab)), ("unk_token", w.UnkToken));
            case BpeModel b:
                return Typed("BPE", ("dropout", b.Dropout), ("unk_token", b.UnkToken), ("continuing_subword_prefix", b.ContinuingSubwordPrefix),
                    ("end_of_word_suffix", b.EndOfWordSuffix), ("fuse_unk", b.FuseUnk), ("byte_fallback", b.ByteFallback),
                    ("ignore_merges", b.IgnoreMerges), ("vocab", VocabObject(b.Vocab)),
                    ("merges", new JsonArray(b.Merges.Select(x => (JsonNode?)new JsonArray(x.Left, x.Right)).ToArray())));
            case UnigramModel u:
                return Typed("Unigram", ("unk_id", u.UnkId), ("vocab", new JsonArray(u.Pieces.Select(x => (JsonNode?)new JsonArray(x.Piece, x.Score)).ToArray())),
                    ("byte_fallback", u.ByteFallback));
            default:
                throw new NotSupportedException($"model {m.GetType().Name} has no tokenizer.json form");
        }
    }

    public static JsonObject PostProcessor(IPostProcessor p) => p switch
    {
        BertProcessing b => Typed("BertProcessing", ("sep", new JsonArray(b.Sep.Token, b.Sep.Id)), ("cls", new JsonArray(b.Cls.Token, b.Cls.Id))),
        RobertaProcessing r => Typed("RobertaProcessing", ("sep", new JsonArray(r.Sep.Token, r.Sep.Id)), ("cls", new JsonArray(r.Cls.Token, r.Cls.Id)),
            ("trim_offsets", r.TrimOffsets), ("add_prefix_space", r.AddPrefixSpace)),
        ByteLevelProcessing b => Typed("ByteLevel", ("add_prefix_space", b.AddPrefixSpace), ("trim_offsets", b.TrimOffsets), ("use_regex", b.UseRegex)),
        TemplateProcessing t => Typed("TemplateProcessing", ("single", Template(t.Single)), ("pair", Template(t.Pair)), ("special_tokens", Specials(t))),
        SequenceProcessing s => Typed("Sequence", ("processors", new JsonArray(s.Processors.Select(x => (JsonNode?)PostProcessor(x)).ToArray()))),
        _ => throw new NotSupportedException($"post-processor {p.GetType().Name} has no tokenizer.json form"),
    };

    public static JsonObject Decoder(IDecoder d) => d switch
    {
        WordPieceDecoder w => Typed("WordPiece", ("prefix", w.Prefix), ("cleanup", w.Cleanup)),
        ByteLevelDecoder => Typed("ByteLevel", ("add_prefix_space", true), ("trim_offsets", true), ("use_regex", true)),
        MetaspaceDecoder m => Typed("Metaspace", ("replacement", m.Replacement.ToString()), ("prepend_scheme", Scheme(m.PrependScheme)), ("split", m.Split)),
        BpeDecoder b => Typed("BPEDecoder", ("suffix", b.Suffix)),
        ByteFallbackDecoder => Typed("ByteFallback"),
        FuseDecoder => Typed("Fuse"),
        StripDecoder s => Typed("Strip", ("content", s.Content.ToString()), ("start", s.Start), ("stop", s.Stop)),
        ReplaceDecoder r => Typed("Replace", ("pattern", Pattern(r.Pattern)), ("content", r.Content)),
        CtcDecoder c => Typed("CTC", ("pad_token", c.PadToken), ("word_delimiter_token", c.WordDelimiterToken), ("cleanup", c.Cleanup)),
        SequenceDecoder s => Typed("Sequence", ("decoders", new JsonArray(s.Decoders.Select(x => (JsonNode?)Decoder(x)).ToArray()))),
        _ => throw new NotSupportedException($"decoder {d.GetType().Name} has no tokenizer.json form"),
    };

    private static string Scheme(PrependScheme s) => s switch
    {
        PrependScheme.Always => "always",
        PrependScheme.First => "first",
        _ => "never",
    };

    private static JsonObject Pattern(SplitPattern p) => p.IsRegex ? new JsonObject { ["Regex"] = p.Source } : new JsonObject { ["String"] = p.Source };

    private static JsonObject VocabObject(Vocabulary vocab)
    {
        var o = new JsonObject();
        foreach (var (token, id) in vocab.TokenToIdMap.OrderBy(kv => kv.Value)) o[token] = id;
        return o;
    }

    private static JsonArray Template(IReadOnlyList<TemplatePiece> pieces) => new(pieces.Select(p => (JsonNode?)(p.IsSequence
        ? new JsonObject { ["Sequence"] = new JsonObject { ["id"] = p.Id, ["type_id"] = p.TypeId } }
        : new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = p.Id, ["type_id"] = p.TypeId } })).ToArray());

    private static JsonObject Specials(TemplateProcessing t)
    {
        var o = new JsonObject();
        foreach (var (key, value) in t.SpecialTokens)
        {
            o[key] = new JsonObject
            {
                ["id"] = value.Id,
                ["ids"] = new JsonArray(value.Ids.Select(i => (JsonNode?)i).ToArray()),
                ["tokens"] = new JsonArray(value.Tokens.Select(s => (JsonNode?)s).ToArray()),
            };
        }
        return o;
    }
}
