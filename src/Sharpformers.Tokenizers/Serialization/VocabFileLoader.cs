using System.Text;
using System.Text.Json.Nodes;
using Sharpformers.Tokenizers.Decoders;
using Sharpformers.Tokenizers.Models;
using Sharpformers.Tokenizers.Normalizers;
using Sharpformers.Tokenizers.PostProcessors;
using Sharpformers.Tokenizers.PreTokenizers;
using Sharpformers.Tokenizers.SentencePiece;

namespace Sharpformers.Tokenizers.Serialization;

/// <summary>
/// Builds tokenizers from vocabulary files with the behaviour of transformers' Python (slow) tokenizers,
/// expressed as the same Normalizer → PreTokenizer → Model → PostProcessor pipeline.
/// </summary>
internal static class VocabFileLoader
{
    /// <summary>The file names each family reads, in order of preference.</summary>
    public static readonly IReadOnlyDictionary<TokenizerFamily, string[]> VocabFiles = new Dictionary<TokenizerFamily, string[]>
    {
        [TokenizerFamily.WordPiece] = ["vocab.txt"],
        [TokenizerFamily.ByteLevelBpe] = ["vocab.json", "encoder.json"],
        [TokenizerFamily.Albert] = ["spiece.model"],
        [TokenizerFamily.XlmRoberta] = ["sentencepiece.bpe.model"],
        [TokenizerFamily.DebertaV2] = ["spm.model"],
    };

    /// <summary>Config keys the loaders interpret themselves (everything else is kept for SavePretrained).</summary>
    private static readonly HashSet<string> RegeneratedKeys =
    [
        "added_tokens_decoder", "tokenizer_class", "model_max_length", "clean_up_tokenization_spaces", "bos_token", "eos_token",
        "unk_token", "sep_token", "pad_token", "cls_token", "mask_token", "additional_special_tokens", "model_input_names",
        "padding_side", "truncation_side", "name_or_path", "tokenizer_file", "auto_map", "special_tokens_map_file",
    ];

    public static PreTrainedTokenizer Load(TokenizerFiles files, TokenizerClassInfo info) => info.Family switch
    {
        TokenizerFamily.WordPiece => LoadWordPiece(files, info),
        TokenizerFamily.ByteLevelBpe => LoadByteLevelBpe(files, info),
        _ => LoadSentencePiece(files, info),
    };

    private static PreTrainedTokenizer LoadWordPiece(TokenizerFiles files, TokenizerClassInfo info)
    {
        var vocab = new Vocabulary(ReadVocabTxt(files.PathOf("vocab.txt")), "vocab.txt");
        var specials = files.ReadSpecialTokens(info.Defaults());
        bool lower = files.GetBool("do_lower_case") ?? true;
        bool basic = files.GetBool("do_basic_tokenize") ?? true;
        bool chinese = files.GetBool("tokenize_chinese_chars") ?? true;
        bool? strip = files.GetBool("strip_accents");
        var neverSplit = ReadStringList(files, "never_split");
        string unk = specials.UnkToken?.Content ?? "[UNK]";
        var model = new WordPieceModel(vocab, unk) { NeverSplit = basic && neverSplit.Count > 0 ? neverSplit.ToHashSet() : null };
        INormalizer normalizer;
        IPreTokenizer preTokenizer;
        if (basic)
        {
            // BasicTokenizer: clean text, isolate CJK, NFC, lowercase, strip accents (NFD + drop Mn), split.
            var steps = new List<INormalizer>
            {
                new BertNormalizer(cleanText: true, handleChineseChars: chinese, stripAccents: false, lowercase: lower) { PythonChineseRanges = true },
                new NfcNormalizer(),
            };
            if (strip ?? lower)
            {
                steps.Add(new NfdNormalizer());
                steps.Add(new NonSpacingMarkFilter());
            }
            normalizer = new SequenceNormalizer(steps);
            preTokenizer = neverSplit.Count > 0 ? new BertPreTokenizer(neverSplit) : new BertPreTokenizer();
        }
        else
        {
            normalizer = lower ? new LowercaseNormalizer() : new SequenceNormalizer([]);
            preTokenizer = new PythonWhitespaceSplitPreTokenizer();
        }
        var added = BuildAddedVocabulary(files, specials, model);
        var cls = specials.ClsToken?.Content ?? "[CLS]";
        var sep = specials.SepToken?.Content ?? "[SEP]";
        var pipeline = new TokenizerPipeline(model, added)
        {
            Normalizer = normalizer,
            PreTokenizer = preTokenizer,
            PostProcessor = new BertProcessing(sep, IdOrThrow(added, model, sep, "vocab.txt"), cls, IdOrThrow(added, model, cls, "vocab.txt")),
            Decoder = new WordPieceDecoder(),
        };
        BertFastPath.TryInstall(pipeline);
        var effective = new JsonObject
        {
            ["do_lower_case"] = lower,
            ["do_basic_tokenize"] = basic,
            ["never_split"] = neverSplit.Count == 0 ? null : new JsonArray(neverSplit.Select(s => (JsonNode?)s).ToArray()),
            ["tokenize_chinese_chars"] = chinese,
            ["strip_accents"] = strip,
        };
        return Finish(files, info, pipeline, specials, new WordPieceSlowDecoder(), null, [], effective: effective);
    }

    private static PreTrainedTokenizer LoadByteLevelBpe(TokenizerFiles files, TokenizerClassInfo info)
    {
        bool openAiNames = !files.Has("vocab.json") && files.Has("encoder.json");
        string vocabName = openAiNames ? "encoder.json" : "vocab.json";
        string mergesName = openAiNames ? "vocab.bpe" : "merges.txt";
        var vocabJson = JsonFields.ParseObject(files.PathOf(vocabName));
        var tokens = new Dictionary<string, int>(vocabJson.Count, StringComparer.Ordinal);
        foreach (var (token, value) in vocabJson) tokens[token] = JsonFields.ElementInt(value, $"{vocabName}: \"{token}\"");
        var vocab = new Vocabulary(tokens, vocabName);
        var merges = ReadMergesPython(files.PathOf(mergesName), mergesName);
        var specials = files.ReadSpecialTokens(info.Defaults());
        bool addPrefixSpace = files.GetBool("add_prefix_space") ?? false;
        bool trimOffsets = files.GetBool("trim_offsets") ?? true;
        var model = new BpeModel(vocab, merges, unkToken: specials.UnkToken?.Content, source: mergesName);
        var added = BuildAddedVocabulary(files, specials, model);
        IPostProcessor? post = null;
        if (!info.IsByteLevelGpt2)
        {
            string cls = specials.ClsToken?.Content ?? "<s>";
            string sep = specials.SepToken?.Content ?? "</s>";
            post = new RobertaProcessing(sep, IdOrThrow(added, model, sep, vocabName), cls, IdOrThrow(added, model, cls, vocabName),
                trimOffsets, addPrefixSpace);
        }
        else
        {
            post = new ByteLevelProcessing(addPrefixSpace, trimOffsets: false);
        }
        var pipeline = new TokenizerPipeline(model, added)
        {
            PreTokenizer = new ByteLevelPreTokenizer(addPrefixSpace: false, trimOffsets: trimOffsets),
            PostProcessor = post,
            Decoder = new ByteLevelDecoder(),
            PythonAddPrefixSpace = addPrefixSpace,
        };
        ByteLevelBpeFastPath.TryInstall(pipeline);
        var effective = new JsonObject { ["add_prefix_space"] = addPrefixSpace, ["trim_offsets"] = trimOffsets };
        return Finish(files, info, pipeline, specials, new ByteLevelSlowDecoder(), null, [], effective: effective);
    }

    private static PreTrainedTokenizer LoadSentencePiece(TokenizerFiles files, TokenizerClassInfo info)
    {
        string fileName = VocabFiles[info.Family][0];
        string path = files.PathOf(fileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{info.Name} needs {fileName}, which is missing from {files.Folder}", path);
        var proto = SentencePieceModelProto.Parse(File.ReadAllBytes(path), fileName);
        var processor = new SentencePieceProcessor(proto, fileName);
        var specials = files.ReadSpecialTokens(info.Defaults());
        bool lower = files.GetBool("do_lower_case") ?? info.Family == TokenizerFamily.Albert;
        SentencePieceModel model;
        INormalizer? normalizer = null;
        IPreTokenizer? preTokenizer = null;
        ISlowTokenDecoder slowDecoder;
        int? slowVocabSize = null;
        switch (info.Family)
        {
            case TokenizerFamily.Albert:
                model = new SentencePieceModel(processor) { SplitDigitComma = true };
                normalizer = new SequenceNormalizer([
                    lower ? new LowercaseNormalizer() : new SequenceNormalizer([]),
                    new AlbertPreprocessNormalizer(files.GetBool("remove_space") ?? true, files.GetBool("keep_accents") ?? false, lower),
                ]);
                slowDecoder = new SentencePieceSlowDecoder(processor);
                break;
            case TokenizerFamily.XlmRoberta:
                var fairseq = new Dictionary<string, int>(StringComparer.Ordinal) { ["<s>"] = 0, ["<pad>"] = 1, ["</s>"] = 2, ["<unk>"] = 3 };
                model = new SentencePieceModel(processor, idOffset: 1, reservedTokens: fairseq, extraVocabSize: 1);
                slowDecoder = new MetaspaceSlowDecoder();
                slowVocabSize = model.VocabSize;
                break;
            default:
                model = new SentencePieceModel(processor);
                if (lower) normalizer = new LowercaseNormalizer();
                if (files.GetBool("split_by_punct") ?? false) preTokenizer = new PunctuationPreTokenizer();
                slowDecoder = new SentencePieceSlowDecoder(processor);
                break;
        }
        var added = BuildAddedVocabulary(files, specials, model);
        if (info.Family == TokenizerFamily.XlmRoberta && specials.MaskToken is { } mask && added.TokenToId(mask.Content) is null)
        {
            added.Add(mask, model.VocabSize - 1);
        }
        string cls = specials.ClsToken!.Content, sep = specials.SepToken!.Content;
        IPostProcessor post = info.Family == TokenizerFamily.XlmRoberta
            ? new RobertaProcessing(sep, IdOrThrow(added, model, sep, fileName), cls, IdOrThrow(added, model, cls, fileName), trimOffsets: false)
            : new BertProcessing(sep, IdOrThrow(added, model, sep, fileName), cls, IdOrThrow(added, model, cls, fileName));
        var pipeline = new TokenizerPipeline(model, added)
        {
            Normalizer = normalizer,
            PreTokenizer = preTokenizer,
            PostProcessor = post,
            Decoder = new MetaspaceDecoder(),
        };
        var effective = new JsonObject { ["do_lower_case"] = lower };
        if (info.Family == TokenizerFamily.Albert)
        {
            effective["remove_space"] = files.GetBool("remove_space") ?? true;
            effective["keep_accents"] = files.GetBool("keep_accents") ?? false;
        }
        if (info.Family == TokenizerFamily.DebertaV2) effective["split_by_punct"] = files.GetBool("split_by_punct") ?? false;
        return Finish(files, info, pipeline, specials, slowDecoder, slowVocabSize, new() { [fileName] = proto.Serialized }, effective: effective);
    }

    /// <summary>
    /// The added vocabulary of a Python tokenizer: the configured added tokens at their ids, then every special
    /// token not yet there (at its vocabulary id, or a new one).
    /// </summary>
    internal static AddedVocabulary BuildAddedVocabulary(TokenizerFiles files, SpecialTokens specials, ITokenizerModel model,
        bool pythonSemantics = true)
    {
        var added = new AddedVocabulary { PythonSemantics = pythonSemantics };
        var specialContents = specials.All.Select(t => t.Content).ToHashSet(StringComparer.Ordinal);
        var decoder = files.ReadAddedTokensDecoder(specialContents);
        foreach (var (id, token) in decoder) added.Add(token, id);
        // A named special token takes the flags the decoder gives its content (transformers maps them by string).
        foreach (string name in SpecialTokens.AttributeNames)
        {
            if (specials[name] is { } t && decoder.Values.FirstOrDefault(d => d.Content == t.Content) is { } fromDecoder) specials[name] = fromDecoder;
        }
        foreach (var special in specials.All)
        {
            if (added.TokenToId(special.Content) is null) added.Add(special with { Special = true }, model);
        }
        return added;
    }

    /// <summary>Applies tokenizer_config.json's common settings and wraps up the tokenizer.</summary>
    internal static PreTrainedTokenizer Finish(TokenizerFiles files, TokenizerClassInfo info, TokenizerPipeline pipeline,
        SpecialTokens specials, ISlowTokenDecoder? slowDecoder, int? slowVocabSize, Dictionary<string, byte[]> rawFiles,
        bool isFast = false, string? className = null, JsonObject? effective = null)
    {
        var entries = new JsonObject();
        foreach (var (key, value) in files.Config)
        {
            if (!RegeneratedKeys.Contains(key)) entries[key] = value?.DeepClone();
        }
        if (effective is not null)
        {
            foreach (var (key, value) in effective) entries[key] = value?.DeepClone();
        }
        var tokenizer = new PreTrainedTokenizer(pipeline, specials, className ?? info.Name, isFast)
        {
            SlowDecoder = slowDecoder,
            SlowVocabSize = slowVocabSize,
            ConfigEntries = entries,
            RawVocabFiles = rawFiles,
            ModelInputNames = info.ModelInputNames,
        };
        ApplyCommonConfig(tokenizer, files);
        return tokenizer;
    }

    internal static void ApplyCommonConfig(PreTrainedTokenizer tokenizer, TokenizerFiles files)
    {
        if (JsonFields.GetLongSaturating(files.Config, "model_max_length", TokenizerFiles.TokenizerConfigFile) is { } max)
        {
            if (max <= 0) throw new InvalidDataException($"{TokenizerFiles.TokenizerConfigFile}: 'model_max_length' must be positive, got {max}");
            tokenizer.ModelMaxLength = max >= (long)1e18 ? PreTrainedTokenizer.UnboundedModelMaxLength : max;
        }
        if (files.GetBool("clean_up_tokenization_spaces") is { } cleanup) tokenizer.CleanUpTokenizationSpaces = cleanup;
        tokenizer.PaddingSide = ParseSide(files.GetString("padding_side"), "padding_side") ?? tokenizer.PaddingSide;
        tokenizer.TruncationSide = ParseSide(files.GetString("truncation_side"), "truncation_side") ?? tokenizer.TruncationSide;
        var names = ReadStringList(files, "model_input_names");
        if (names.Count > 0) tokenizer.ModelInputNames = names;
    }

    private static Side? ParseSide(string? value, string field) => value switch
    {
        null => null,
        "right" => Side.Right,
        "left" => Side.Left,
        _ => throw new InvalidDataException($"{TokenizerFiles.TokenizerConfigFile}: '{field}' must be \"right\" or \"left\", got \"{value}\""),
    };

    private static List<string> ReadStringList(TokenizerFiles files, string field)
    {
        var array = JsonFields.GetArray(files.Config, field, TokenizerFiles.TokenizerConfigFile);
        if (array is null) return [];
        var list = new List<string>(array.Count);
        for (int i = 0; i < array.Count; i++) list.Add(JsonFields.ElementString(array[i], $"{TokenizerFiles.TokenizerConfigFile}: {field}[{i}]"));
        return list;
    }

    private static int IdOrThrow(AddedVocabulary added, ITokenizerModel model, string token, string file) =>
        added.TokenToId(token) ?? model.TokenToId(token)
        ?? throw new InvalidDataException($"{file}: the special token '{token}' has no id in the vocabulary");

    /// <summary>
    /// Reads BERT's vocab.txt as transformers does: one token per line, the line number is the id; lines end at
    /// \n, \r\n or \r (Python's universal newlines), never at U+2028, which bert-base-chinese has as a token.
    /// </summary>
    public static Dictionary<string, int> ReadVocabTxt(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"vocabulary file not found: {path}", path);
        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(File.ReadAllBytes(path));
        }
        catch (DecoderFallbackException e)
        {
            throw new InvalidDataException($"{Path.GetFileName(path)}: not valid UTF-8 ({e.Message})", e);
        }
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        int index = 0;
        int start = 0;
        for (int i = 0; i <= text.Length; i++)
        {
            bool end = i == text.Length;
            if (!end && text[i] != '\n' && text[i] != '\r') continue;
            if (end && start == text.Length) break;
            vocab[text[start..i]] = index++;
            if (!end && text[i] == '\r' && i + 1 < text.Length && text[i + 1] == '\n') i++;
            start = i + 1;
        }
        if (vocab.Count == 0) throw new InvalidDataException($"{Path.GetFileName(path)}: the vocabulary is empty");
        return vocab;
    }

    /// <summary>
    /// Reads merges.txt as the Python GPT-2 tokenizer does: the first line (#version) and the last (empty after
    /// the final newline) are dropped, each other line is a pair separated by whitespace.
    /// </summary>
    public static List<(string, string)> ReadMergesPython(string path, string name)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"merges file not found: {path}", path);
        string text;
        try
        {
            text = File.ReadAllText(path, new UTF8Encoding(false, true));
        }
        catch (DecoderFallbackException e)
        {
            throw new InvalidDataException($"{name}: not valid UTF-8 ({e.Message})", e);
        }
        var lines = text.Split('\n');
        var merges = new List<(string, string)>(Math.Max(0, lines.Length - 2));
        for (int i = 1; i < lines.Length - 1; i++)
        {
            var parts = lines[i].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2) merges.Add((parts[0], parts[1]));
            else if (parts.Length != 0) throw new InvalidDataException($"{name}: line {i + 1} should hold two tokens separated by a space, got '{lines[i]}'");
        }
        return merges;
    }
}

/// <summary>BasicTokenizer's accent removal after NFD: drop nonspacing marks (Mn) only.</summary>
internal sealed class NonSpacingMarkFilter : INormalizer
{
    public void Normalize(Text.NormalizedString text) => text.Filter(static c => !Text.CharInfo.IsNonSpacingMark(c));
}

/// <summary>Python's <c>str.split()</c>: split on Python whitespace, dropping it.</summary>
internal sealed class PythonWhitespaceSplitPreTokenizer : IPreTokenizer
{
    private static readonly Text.CharPredicatePattern Space = new(Text.CharInfo.IsPythonSpace);

    public void PreTokenize(Text.PreTokenizedString text) =>
        text.SplitEach(static (_, s, output) => s.Split(Space, Text.SplitDelimiterBehavior.Removed, output));
}
