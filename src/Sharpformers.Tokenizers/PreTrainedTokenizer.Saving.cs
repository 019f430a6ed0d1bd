using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sharpformers.Tokenizers.Models;
using Sharpformers.Tokenizers.Serialization;
using Sharpformers.Utils;

namespace Sharpformers.Tokenizers;

public sealed partial class PreTrainedTokenizer
{
    private static readonly JsonSerializerOptions PrettyJson = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// Saves the tokenizer so that this library and transformers load it back (save_pretrained): tokenizer.json,
    /// tokenizer_config.json, special_tokens_map.json and the vocabulary files (vocab.txt; vocab.json +
    /// merges.txt; the SentencePiece model). Each file is written atomically; other files in
    /// <paramref name="directory"/> (model weights, config.json) are left alone. Returns the paths written.
    /// </summary>
    public IReadOnlyList<string> SavePretrained(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        void WriteText(string name, string text)
        {
            string path = Path.Combine(directory, name);
            AtomicFile.WriteAllText(path, text);
            written.Add(path);
        }
        void WriteJson(string name, JsonNode node) => WriteText(name, node.ToJsonString(PrettyJson) + "\n");

        var fastPipeline = IsFast ? Pipeline : SlowTokenizerConverter.Convert(this);
        if (fastPipeline is not null) WriteJson(TokenizerFiles.TokenizerJsonFile, TokenizerJsonWriter.Write(fastPipeline));
        WriteJson(TokenizerFiles.TokenizerConfigFile, BuildTokenizerConfig());
        WriteJson(TokenizerFiles.SpecialTokensMapFile, BuildSpecialTokensMap());
        foreach (var (name, bytes) in RawVocabFiles)
        {
            string path = Path.Combine(directory, name);
            AtomicFile.WriteAllBytes(path, bytes);
            written.Add(path);
        }
        switch (Pipeline.Model)
        {
            case WordPieceModel wordPiece:
                WriteText("vocab.txt", VocabularyLines(wordPiece.Vocab));
                break;
            case BpeModel bpe:
                var vocab = new JsonObject();
                foreach (var (token, id) in bpe.Vocab.TokenToIdMap.OrderBy(kv => kv.Value)) vocab[token] = id;
                WriteJson("vocab.json", vocab);
                var merges = new StringBuilder("#version: 0.2\n");
                foreach (var (left, right) in bpe.Merges) merges.Append(left).Append(' ').Append(right).Append('\n');
                WriteText("merges.txt", merges.ToString());
                break;
        }
        return written;
    }

    /// <summary>vocab.txt: one token a line in id order; ids nobody uses get an [unusedN] placeholder so lines stay ids.</summary>
    private static string VocabularyLines(Vocabulary vocab)
    {
        var sb = new StringBuilder();
        for (int id = 0; id < vocab.IdLimit; id++) sb.Append(vocab.IdToToken(id) ?? $"[unused_id_{id}]").Append('\n');
        return sb.ToString();
    }

    private JsonObject BuildTokenizerConfig()
    {
        var decoder = new JsonObject();
        foreach (var (id, token) in AddedTokensDecoder)
        {
            decoder[id.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new JsonObject
            {
                ["content"] = token.Content,
                ["lstrip"] = token.LStrip,
                ["normalized"] = token.Normalized,
                ["rstrip"] = token.RStrip,
                ["single_word"] = token.SingleWord,
                ["special"] = token.Special,
            };
        }
        var config = new JsonObject { ["added_tokens_decoder"] = decoder };
        foreach (string name in SpecialTokens.AttributeNames)
        {
            if (SpecialTokens[name] is { } t) config[name] = t.Content;
        }
        if (SpecialTokens.AdditionalSpecialTokens.Count > 0)
        {
            config["additional_special_tokens"] = new JsonArray(SpecialTokens.AdditionalSpecialTokens.Select(t => (JsonNode?)t.Content).ToArray());
        }
        config["clean_up_tokenization_spaces"] = CleanUpTokenizationSpaces;
        config["model_max_length"] = ModelMaxLength == UnboundedModelMaxLength
            ? JsonNode.Parse("1000000000000000019884624838656")
            : JsonValue.Create(ModelMaxLength);
        config["padding_side"] = PaddingSide == Side.Left ? "left" : "right";
        config["truncation_side"] = TruncationSide == Side.Left ? "left" : "right";
        config["model_input_names"] = new JsonArray(ModelInputNames.Select(n => (JsonNode?)n).ToArray());
        foreach (var (key, value) in ConfigEntries) config[key] = value?.DeepClone();
        config["tokenizer_class"] = TokenizerClass;
        return config;
    }

    private JsonObject BuildSpecialTokensMap()
    {
        var map = new JsonObject();
        foreach (string name in SpecialTokens.AttributeNames)
        {
            if (SpecialTokens[name] is { } t) map[name] = TokenNode(t);
        }
        if (SpecialTokens.AdditionalSpecialTokens.Count > 0)
        {
            map["additional_special_tokens"] = new JsonArray(SpecialTokens.AdditionalSpecialTokens.Select(t => (JsonNode?)TokenNode(t)).ToArray());
        }
        return map;
    }

    /// <summary>A plain string for an ordinary special token, the full form when it has options (as transformers writes it).</summary>
    private static JsonNode TokenNode(AddedToken t) => !t.LStrip && !t.RStrip && !t.SingleWord && !t.Normalized
        ? JsonValue.Create(t.Content)
        : new JsonObject
        {
            ["content"] = t.Content,
            ["lstrip"] = t.LStrip,
            ["normalized"] = t.Normalized,
            ["rstrip"] = t.RStrip,
            ["single_word"] = t.SingleWord,
        };
}
