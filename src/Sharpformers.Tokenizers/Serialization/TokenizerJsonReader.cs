using System.Text.Json;
using System.Text.Json.Nodes;
using Sharpformers.Tokenizers.Decoders;
using Sharpformers.Tokenizers.Models;
using Sharpformers.Tokenizers.Normalizers;
using Sharpformers.Tokenizers.PostProcessors;
using Sharpformers.Tokenizers.PreTokenizers;
using Sharpformers.Tokenizers.SentencePiece;
using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.Serialization;

/// <summary>
/// Reads a Hugging Face tokenizer.json into a <see cref="TokenizerPipeline"/>. Every component type of the
/// format used by BERT-family, RoBERTa/GPT-2 and SentencePiece-converted tokenizers is supported; an unknown
/// type or a field of the wrong type raises an error naming the file, the JSON path and what was expected.
/// The stored "truncation" and "padding" are not applied: transformers sets them from each call's arguments.
/// </summary>
public static class TokenizerJsonReader
{
    /// <summary>Reads the pipeline from a tokenizer.json file.</summary>
    public static TokenizerPipeline Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"tokenizer file not found: {path}", path);
        string name = Path.GetFileName(path);
        return Read(JsonFields.ParseObject(path, name), name);
    }

    /// <summary>Reads the pipeline from a parsed tokenizer.json; <paramref name="file"/> names it in errors.</summary>
    public static TokenizerPipeline Read(JsonObject root, string file)
    {
        var ctx = new Context(file);
        var model = ReadModel(ctx.AsObject(ctx.Required(root, "model", "tokenizer"), "model"), ctx, "model");
        var added = new AddedVocabulary();
        if (JsonFields.GetArray(root, "added_tokens", file) is { } addedTokens)
        {
            for (int i = 0; i < addedTokens.Count; i++)
            {
                string where = $"added_tokens[{i}]";
                var o = ctx.AsObject(addedTokens[i], where);
                int id = ctx.Int(o, "id", where) ?? throw ctx.Missing(where, "id");
                var token = TokenizerFiles.ParseAddedToken(o, $"{file}: {where}", defaultSpecial: false)!;
                added.Add(token, id);
            }
        }
        return new TokenizerPipeline(model, added)
        {
            Normalizer = ReadOptional(root, "normalizer", ctx, ReadNormalizer),
            PreTokenizer = ReadOptional(root, "pre_tokenizer", ctx, ReadPreTokenizer),
            PostProcessor = ReadOptional(root, "post_processor", ctx, ReadPostProcessor),
            Decoder = ReadOptional(root, "decoder", ctx, ReadDecoder),
        };
    }

    private static T? ReadOptional<T>(JsonObject root, string field, Context ctx, Func<JsonObject, Context, string, T> read) where T : class
    {
        if (!root.TryGetPropertyValue(field, out var node) || node is null) return null;
        return read(ctx.AsObject(node, field), ctx, field);
    }

    internal static INormalizer ReadNormalizer(JsonObject o, Context ctx, string where)
    {
        string type = ctx.Type(o, where);
        switch (type)
        {
            case "BertNormalizer":
                return new BertNormalizer(
                    ctx.Bool(o, "clean_text", where) ?? true,
                    ctx.Bool(o, "handle_chinese_chars", where) ?? true,
                    ctx.Bool(o, "strip_accents", where),
                    ctx.Bool(o, "lowercase", where) ?? true);
            case "NFC": return new NfcNormalizer();
            case "NFD": return new NfdNormalizer();
            case "NFKC": return new NfkcNormalizer();
            case "NFKD": return new NfkdNormalizer();
            case "Lowercase": return new LowercaseNormalizer();
            case "StripAccents": return new StripAccentsNormalizer();
            case "Strip": return new StripNormalizer(ctx.Bool(o, "strip_left", where) ?? true, ctx.Bool(o, "strip_right", where) ?? true);
            case "Replace":
                return new ReplaceNormalizer(ReadPattern(ctx.Required(o, "pattern", where), ctx, where + ".pattern"),
                    ctx.String(o, "content", where) ?? throw ctx.Missing(where, "content"));
            case "Prepend":
                return new PrependNormalizer(ctx.String(o, "prepend", where) ?? throw ctx.Missing(where, "prepend"));
            case "Precompiled":
                string? base64 = ctx.String(o, "precompiled_charsmap", where);
                if (string.IsNullOrEmpty(base64)) return new SequenceNormalizer([]);
                byte[] blob;
                try
                {
                    blob = Convert.FromBase64String(base64);
                }
                catch (FormatException)
                {
                    throw ctx.Error(where + ".precompiled_charsmap", "must be base64");
                }
                return new PrecompiledNormalizer(PrecompiledCharsMap.Parse(blob, $"{ctx.File}: {where}"));
            case "ByteLevel": return new ByteLevelNormalizer();
            case "Sequence":
                return new SequenceNormalizer(ReadList(o, "normalizers", ctx, where, ReadNormalizer));
            default:
                throw ctx.UnknownType(where, type, "BertNormalizer, NFC, NFD, NFKC, NFKD, Lowercase, StripAccents, Strip, Replace, Prepend, Precompiled, ByteLevel, Sequence");
        }
    }

    internal static IPreTokenizer ReadPreTokenizer(JsonObject o, Context ctx, string where)
    {
        string type = ctx.Type(o, where);
        switch (type)
        {
            case "BertPreTokenizer": return new BertPreTokenizer();
            case "ByteLevel":
                return new ByteLevelPreTokenizer(ctx.Bool(o, "add_prefix_space", where) ?? true, ctx.Bool(o, "trim_offsets", where) ?? true,
                    ctx.Bool(o, "use_regex", where) ?? true);
            case "Whitespace": return new WhitespacePreTokenizer();
            case "WhitespaceSplit": return new WhitespaceSplitPreTokenizer();
            case "Metaspace":
                var (replacement, scheme, split) = ReadMetaspace(o, ctx, where);
                return new MetaspacePreTokenizer(replacement, scheme, split);
            case "Punctuation":
                return new PunctuationPreTokenizer(ReadBehavior(o, ctx, where) ?? SplitDelimiterBehavior.Isolated);
            case "Digits":
                return new DigitsPreTokenizer(ctx.Bool(o, "individual_digits", where) ?? false);
            case "Split":
                return new SplitPreTokenizer(ReadPattern(ctx.Required(o, "pattern", where), ctx, where + ".pattern"),
                    ReadBehavior(o, ctx, where) ?? throw ctx.Missing(where, "behavior"), ctx.Bool(o, "invert", where) ?? false);
            case "CharDelimiterSplit":
                string delimiter = ctx.String(o, "delimiter", where) ?? throw ctx.Missing(where, "delimiter");
                if (delimiter.Length != 1) throw ctx.Error(where + ".delimiter", "must be a single character");
                return new CharDelimiterSplitPreTokenizer(delimiter[0]);
            case "Sequence":
                return new SequencePreTokenizer(ReadList(o, "pretokenizers", ctx, where, ReadPreTokenizer));
            default:
                throw ctx.UnknownType(where, type, "BertPreTokenizer, ByteLevel, Whitespace, WhitespaceSplit, Metaspace, Punctuation, Digits, Split, CharDelimiterSplit, Sequence");
        }
    }

    internal static ITokenizerModel ReadModel(JsonObject o, Context ctx, string where)
    {
        string type = ctx.String(o, "type", where) ?? InferModelType(o);
        switch (type)
        {
            case "WordPiece":
                return new WordPieceModel(ReadVocabMap(o, ctx, where), ctx.String(o, "unk_token", where) ?? "[UNK]",
                    ctx.String(o, "continuing_subword_prefix", where) ?? "##", ctx.Int(o, "max_input_chars_per_word", where) ?? 100);
            case "WordLevel":
                return new WordLevelModel(ReadVocabMap(o, ctx, where), ctx.String(o, "unk_token", where) ?? "<unk>");
            case "BPE":
                var vocab = ReadVocabMap(o, ctx, where);
                var merges = ReadMerges(ctx.Required(o, "merges", where), ctx, where + ".merges");
                double? dropout = ctx.Double(o, "dropout", where);
                return new BpeModel(vocab, merges,
                    unkToken: ctx.String(o, "unk_token", where),
                    continuingSubwordPrefix: ctx.String(o, "continuing_subword_prefix", where),
                    endOfWordSuffix: ctx.String(o, "end_of_word_suffix", where),
                    fuseUnk: ctx.Bool(o, "fuse_unk", where) ?? false,
                    byteFallback: ctx.Bool(o, "byte_fallback", where) ?? false,
                    dropout: dropout is null ? null : (float)dropout.Value,
                    ignoreMerges: ctx.Bool(o, "ignore_merges", where) ?? false,
                    source: $"{ctx.File}: {where}");
            case "Unigram":
                var array = ctx.Array(o, "vocab", where) ?? throw ctx.Missing(where, "vocab");
                var pieces = new List<(string, double)>(array.Count);
                for (int i = 0; i < array.Count; i++)
                {
                    string at = $"{where}.vocab[{i}]";
                    if (array[i] is not JsonArray pair || pair.Count != 2) throw ctx.Error(at, "must be a [piece, score] pair");
                    pieces.Add((JsonFields.ElementString(pair[0], $"{ctx.File}: {at}[0]"), JsonFields.ElementDouble(pair[1], $"{ctx.File}: {at}[1]")));
                }
                return new UnigramModel(pieces, ctx.Int(o, "unk_id", where), ctx.Bool(o, "byte_fallback", where) ?? false, $"{ctx.File}: {where}");
            default:
                throw ctx.UnknownType(where, type, "WordPiece, BPE, Unigram, WordLevel");
        }
    }

    private static string InferModelType(JsonObject o)
    {
        if (o.ContainsKey("merges")) return "BPE";
        if (o["vocab"] is JsonArray) return "Unigram";
        if (o.ContainsKey("continuing_subword_prefix") || o.ContainsKey("max_input_chars_per_word")) return "WordPiece";
        return "WordLevel";
    }

    internal static IPostProcessor ReadPostProcessor(JsonObject o, Context ctx, string where)
    {
        string type = ctx.Type(o, where);
        switch (type)
        {
            case "BertProcessing":
            {
                var (sep, sepId) = ReadTokenIdPair(o, "sep", ctx, where);
                var (cls, clsId) = ReadTokenIdPair(o, "cls", ctx, where);
                return new BertProcessing(sep, sepId, cls, clsId);
            }
            case "RobertaProcessing":
            {
                var (sep, sepId) = ReadTokenIdPair(o, "sep", ctx, where);
                var (cls, clsId) = ReadTokenIdPair(o, "cls", ctx, where);
                return new RobertaProcessing(sep, sepId, cls, clsId, ctx.Bool(o, "trim_offsets", where) ?? true,
                    ctx.Bool(o, "add_prefix_space", where) ?? true);
            }
            case "ByteLevel":
                return new ByteLevelProcessing(ctx.Bool(o, "add_prefix_space", where) ?? true, ctx.Bool(o, "trim_offsets", where) ?? true,
                    ctx.Bool(o, "use_regex", where) ?? true);
            case "TemplateProcessing":
            {
                var single = ReadTemplate(ctx.Required(o, "single", where), ctx, where + ".single");
                var pair = ReadTemplate(ctx.Required(o, "pair", where), ctx, where + ".pair");
                var specials = new Dictionary<string, TemplateSpecialToken>(StringComparer.Ordinal);
                if (ctx.Object(o, "special_tokens", where) is { } map)
                {
                    foreach (var (key, value) in map)
                    {
                        string at = $"{where}.special_tokens[\"{key}\"]";
                        var t = ctx.AsObject(value, at);
                        var ids = ctx.Array(t, "ids", at) ?? throw ctx.Missing(at, "ids");
                        var tokens = ctx.Array(t, "tokens", at) ?? throw ctx.Missing(at, "tokens");
                        if (ids.Count != tokens.Count) throw ctx.Error(at, "must have as many ids as tokens");
                        specials[key] = new TemplateSpecialToken(
                            ctx.String(t, "id", at) ?? key,
                            ids.Select((n, i) => JsonFields.ElementInt(n, $"{ctx.File}: {at}.ids[{i}]")).ToArray(),
                            tokens.Select((n, i) => JsonFields.ElementString(n, $"{ctx.File}: {at}.tokens[{i}]")).ToArray());
                    }
                }
                try
                {
                    return new TemplateProcessing(single, pair, specials);
                }
                catch (InvalidDataException e)
                {
                    throw ctx.Error(where, e.Message);
                }
            }
            case "Sequence":
                return new SequenceProcessing(ReadList(o, "processors", ctx, where, ReadPostProcessor));
            default:
                throw ctx.UnknownType(where, type, "BertProcessing, RobertaProcessing, TemplateProcessing, ByteLevel, Sequence");
        }
    }

    internal static IDecoder ReadDecoder(JsonObject o, Context ctx, string where)
    {
        string type = ctx.Type(o, where);
        switch (type)
        {
            case "WordPiece": return new WordPieceDecoder(ctx.String(o, "prefix", where) ?? "##", ctx.Bool(o, "cleanup", where) ?? true);
            case "ByteLevel": return new ByteLevelDecoder();
            case "Metaspace":
                var (replacement, scheme, split) = ReadMetaspace(o, ctx, where);
                return new MetaspaceDecoder(replacement, scheme, split);
            case "BPEDecoder": return new BpeDecoder(ctx.String(o, "suffix", where) ?? "</w>");
            case "ByteFallback": return new ByteFallbackDecoder();
            case "Fuse": return new FuseDecoder();
            case "Strip":
                string content = ctx.String(o, "content", where) ?? " ";
                if (content.Length != 1) throw ctx.Error(where + ".content", "must be a single character");
                return new StripDecoder(content[0], ctx.Int(o, "start", where) ?? 0, ctx.Int(o, "stop", where) ?? 0);
            case "Replace":
                return new ReplaceDecoder(ReadPattern(ctx.Required(o, "pattern", where), ctx, where + ".pattern"),
                    ctx.String(o, "content", where) ?? throw ctx.Missing(where, "content"));
            case "CTC":
                return new CtcDecoder(ctx.String(o, "pad_token", where) ?? "<pad>", ctx.String(o, "word_delimiter_token", where) ?? "|",
                    ctx.Bool(o, "cleanup", where) ?? true);
            case "Sequence":
                return new SequenceDecoder(ReadList(o, "decoders", ctx, where, ReadDecoder));
            default:
                throw ctx.UnknownType(where, type, "WordPiece, ByteLevel, Metaspace, BPEDecoder, ByteFallback, Fuse, Strip, Replace, CTC, Sequence");
        }
    }

    private static List<T> ReadList<T>(JsonObject o, string field, Context ctx, string where, Func<JsonObject, Context, string, T> read)
    {
        var array = ctx.Array(o, field, where) ?? throw ctx.Missing(where, field);
        var list = new List<T>(array.Count);
        for (int i = 0; i < array.Count; i++)
        {
            string at = $"{where}.{field}[{i}]";
            list.Add(read(ctx.AsObject(array[i], at), ctx, at));
        }
        return list;
    }

    private static (char Replacement, PrependScheme Scheme, bool Split) ReadMetaspace(JsonObject o, Context ctx, string where)
    {
        string replacement = ctx.String(o, "replacement", where) ?? "▁";
        if (replacement.Length != 1) throw ctx.Error(where + ".replacement", "must be a single character");
        var scheme = PrependScheme.Always;
        if (ctx.String(o, "prepend_scheme", where) is { } s)
        {
            scheme = s switch
            {
                "always" => PrependScheme.Always,
                "first" => PrependScheme.First,
                "never" => PrependScheme.Never,
                _ => throw ctx.Error(where + ".prepend_scheme", $"must be \"always\", \"first\" or \"never\", got \"{s}\""),
            };
        }
        else if (ctx.Bool(o, "add_prefix_space", where) is false)
        {
            scheme = PrependScheme.Never;
        }
        return (replacement[0], scheme, ctx.Bool(o, "split", where) ?? true);
    }

    private static SplitPattern ReadPattern(JsonNode node, Context ctx, string where)
    {
        var o = ctx.AsObject(node, where);
        if (ctx.String(o, "String", where) is { } literal) return SplitPattern.FromString(literal);
        if (ctx.String(o, "Regex", where) is { } regex)
        {
            if (regex == Gpt2Pattern.Source) return new Gpt2SplitPattern();
            try
            {
                return SplitPattern.FromRegex(regex);
            }
            catch (ArgumentException e)
            {
                throw ctx.Error(where, e.Message);
            }
        }
        throw ctx.Error(where, "must be {\"String\": ...} or {\"Regex\": ...}");
    }

    private static SplitDelimiterBehavior? ReadBehavior(JsonObject o, Context ctx, string where)
    {
        string? b = ctx.String(o, "behavior", where);
        return b switch
        {
            null => null,
            "Removed" => SplitDelimiterBehavior.Removed,
            "Isolated" => SplitDelimiterBehavior.Isolated,
            "MergedWithPrevious" => SplitDelimiterBehavior.MergedWithPrevious,
            "MergedWithNext" => SplitDelimiterBehavior.MergedWithNext,
            "Contiguous" => SplitDelimiterBehavior.Contiguous,
            _ => throw ctx.Error(where + ".behavior", $"must be Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous, got \"{b}\""),
        };
    }

    private static Vocabulary ReadVocabMap(JsonObject o, Context ctx, string where)
    {
        var vocab = ctx.Object(o, "vocab", where) ?? throw ctx.Missing(where, "vocab");
        var map = new Dictionary<string, int>(vocab.Count, StringComparer.Ordinal);
        foreach (var (token, value) in vocab) map[token] = JsonFields.ElementInt(value, $"{ctx.File}: {where}.vocab[\"{token}\"]");
        return new Vocabulary(map, $"{ctx.File}: {where}.vocab");
    }

    private static List<(string, string)> ReadMerges(JsonNode node, Context ctx, string where)
    {
        if (node is not JsonArray array) throw ctx.Error(where, $"must be an array, got {JsonFields.Kind(node)}");
        var merges = new List<(string, string)>(array.Count);
        for (int i = 0; i < array.Count; i++)
        {
            string at = $"{where}[{i}]";
            switch (array[i])
            {
                case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                    string line = v.GetValue<string>();
                    int space = line.IndexOf(' ', 1);
                    if (space <= 0 || space == line.Length - 1) throw ctx.Error(at, $"must be two tokens separated by a space, got \"{line}\"");
                    merges.Add((line[..space], line[(space + 1)..]));
                    break;
                case JsonArray pair when pair.Count == 2:
                    merges.Add((JsonFields.ElementString(pair[0], $"{ctx.File}: {at}[0]"), JsonFields.ElementString(pair[1], $"{ctx.File}: {at}[1]")));
                    break;
                default:
                    throw ctx.Error(at, "must be \"a b\" or [\"a\", \"b\"]");
            }
        }
        return merges;
    }

    private static (string Token, int Id) ReadTokenIdPair(JsonObject o, string field, Context ctx, string where)
    {
        string at = $"{where}.{field}";
        if (ctx.Required(o, field, where) is not JsonArray pair || pair.Count != 2) throw ctx.Error(at, "must be a [token, id] pair");
        return (JsonFields.ElementString(pair[0], $"{ctx.File}: {at}[0]"), JsonFields.ElementInt(pair[1], $"{ctx.File}: {at}[1]"));
    }

    private static List<TemplatePiece> ReadTemplate(JsonNode node, Context ctx, string where)
    {
        var pieces = new List<TemplatePiece>();
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String)
        {
            foreach (string part in v.GetValue<string>().Split(' ', StringSplitOptions.RemoveEmptyEntries)) pieces.Add(TemplatePiece.Parse(part));
            return pieces;
        }
        if (node is not JsonArray array) throw ctx.Error(where, $"must be an array or a template string, got {JsonFields.Kind(node)}");
        for (int i = 0; i < array.Count; i++)
        {
            string at = $"{where}[{i}]";
            if (array[i] is JsonValue s && s.GetValueKind() == JsonValueKind.String)
            {
                pieces.Add(TemplatePiece.Parse(s.GetValue<string>()));
                continue;
            }
            var o = ctx.AsObject(array[i], at);
            if (ctx.Object(o, "Sequence", at) is { } seq)
            {
                string id = ctx.String(seq, "id", at + ".Sequence") ?? "A";
                if (id is not ("A" or "B")) throw ctx.Error(at + ".Sequence.id", $"must be \"A\" or \"B\", got \"{id}\"");
                pieces.Add(TemplatePiece.Sequence(id, ctx.Int(seq, "type_id", at + ".Sequence") ?? 0));
            }
            else if (ctx.Object(o, "SpecialToken", at) is { } special)
            {
                pieces.Add(TemplatePiece.SpecialToken(ctx.String(special, "id", at + ".SpecialToken") ?? throw ctx.Missing(at + ".SpecialToken", "id"),
                    ctx.Int(special, "type_id", at + ".SpecialToken") ?? 0));
            }
            else
            {
                throw ctx.Error(at, "must be {\"Sequence\": ...} or {\"SpecialToken\": ...}");
            }
        }
        return pieces;
    }

    /// <summary>Carries the file name into every error.</summary>
    internal sealed class Context(string file)
    {
        public string File => file;

        public InvalidDataException Error(string where, string message) => new($"{file}: {where} {message}");

        public InvalidDataException Missing(string where, string field) => new($"{file}: {where} is missing '{field}'");

        public InvalidDataException UnknownType(string where, string type, string known) =>
            new($"{file}: {where} has unknown type \"{type}\" (supported: {known})");

        public JsonObject AsObject(JsonNode? node, string where) =>
            node as JsonObject ?? throw Error(where, $"must be an object, got {JsonFields.Kind(node)}");

        public JsonNode Required(JsonObject o, string field, string where) =>
            o.TryGetPropertyValue(field, out var node) && node is not null ? node : throw Missing(where, field);

        public string Type(JsonObject o, string where) => String(o, "type", where) ?? throw Missing(where, "type");

        public string? String(JsonObject o, string field, string where) => JsonFields.GetString(o, field, $"{file}: {where}");

        public bool? Bool(JsonObject o, string field, string where) => JsonFields.GetBool(o, field, $"{file}: {where}");

        public int? Int(JsonObject o, string field, string where) => JsonFields.GetInt(o, field, $"{file}: {where}");

        public double? Double(JsonObject o, string field, string where) => JsonFields.GetDouble(o, field, $"{file}: {where}");

        public JsonObject? Object(JsonObject o, string field, string where) => JsonFields.GetObject(o, field, $"{file}: {where}");

        public JsonArray? Array(JsonObject o, string field, string where) => JsonFields.GetArray(o, field, $"{file}: {where}");
    }
}

/// <summary>A Split pattern that is exactly GPT-2's regex, matched by the hand-written <see cref="Gpt2Pattern"/>.</summary>
internal sealed class Gpt2SplitPattern : SplitPattern
{
    public override string Source => Gpt2Pattern.Source;

    public override bool IsRegex => true;

    public override void FindMatches(ReadOnlySpan<char> text, List<PatternMatch> output) => Gpt2Pattern.Instance.FindMatches(text, output);
}
