using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sharpformers.Tokenizers.Serialization;

/// <summary>
/// The JSON side files of a tokenizer folder (tokenizer_config.json, special_tokens_map.json,
/// added_tokens.json, config.json) with typed, validated access.
/// </summary>
internal sealed class TokenizerFiles
{
    public const string TokenizerConfigFile = "tokenizer_config.json";
    public const string SpecialTokensMapFile = "special_tokens_map.json";
    public const string AddedTokensFile = "added_tokens.json";
    public const string ModelConfigFile = "config.json";
    public const string TokenizerJsonFile = "tokenizer.json";

    private TokenizerFiles(string folder)
    {
        Folder = folder;
    }

    public string Folder { get; }

    /// <summary>tokenizer_config.json (empty when absent), with any overrides applied.</summary>
    public JsonObject Config { get; private set; } = [];

    public JsonObject? SpecialTokensMap { get; private set; }

    public JsonObject? AddedTokensJson { get; private set; }

    public JsonObject? ModelConfig { get; private set; }

    public string PathOf(string fileName) => Path.Combine(Folder, fileName);

    public bool Has(string fileName) => File.Exists(PathOf(fileName));

    public static TokenizerFiles Read(string folder, JsonObject? overrides)
    {
        var files = new TokenizerFiles(folder);
        if (files.Has(TokenizerConfigFile)) files.Config = JsonFields.ParseObject(files.PathOf(TokenizerConfigFile));
        if (files.Has(SpecialTokensMapFile)) files.SpecialTokensMap = JsonFields.ParseObject(files.PathOf(SpecialTokensMapFile));
        if (files.Has(AddedTokensFile)) files.AddedTokensJson = JsonFields.ParseObject(files.PathOf(AddedTokensFile));
        if (files.Has(ModelConfigFile)) files.ModelConfig = JsonFields.ParseObject(files.PathOf(ModelConfigFile));
        if (overrides is not null)
        {
            foreach (var (key, value) in overrides) files.Config[key] = value?.DeepClone();
        }
        return files;
    }

    public string? GetString(string field) => JsonFields.GetString(Config, field, TokenizerConfigFile);

    public bool? GetBool(string field) => JsonFields.GetBool(Config, field, TokenizerConfigFile);

    public int? GetInt(string field) => JsonFields.GetInt(Config, field, TokenizerConfigFile);

    /// <summary>The declared tokenizer class without a trailing "Fast", or null.</summary>
    public string? DeclaredTokenizerClass
    {
        get
        {
            string? name = GetString("tokenizer_class");
            if (name is null) return null;
            return name.EndsWith("Fast", StringComparison.Ordinal) ? name[..^4] : name;
        }
    }

    /// <summary>config.json's model_type, or null.</summary>
    public string? ModelType => ModelConfig is null ? null : JsonFields.GetString(ModelConfig, "model_type", ModelConfigFile);

    /// <summary>
    /// The added tokens the configuration declares (tokenizer_config.json's added_tokens_decoder, or the legacy
    /// added_tokens.json), by id.
    /// </summary>
    public SortedDictionary<int, AddedToken> ReadAddedTokensDecoder(ISet<string> specialContents)
    {
        var result = new SortedDictionary<int, AddedToken>();
        var decoder = JsonFields.GetObject(Config, "added_tokens_decoder", TokenizerConfigFile);
        if (decoder is not null)
        {
            foreach (var (key, value) in decoder)
            {
                if (!int.TryParse(key, out int id) || id < 0)
                {
                    throw new InvalidDataException($"{TokenizerConfigFile}: added_tokens_decoder key '{key}' must be a token id (a non-negative integer)");
                }
                result[id] = ParseAddedToken(value, $"{TokenizerConfigFile}: added_tokens_decoder[\"{key}\"]", defaultSpecial: false)
                    ?? throw new InvalidDataException($"{TokenizerConfigFile}: added_tokens_decoder[\"{key}\"] is null");
            }
            return result;
        }
        if (AddedTokensJson is not null)
        {
            foreach (var (content, value) in AddedTokensJson)
            {
                int id = JsonFields.ElementInt(value, $"{AddedTokensFile}: \"{content}\"");
                bool special = specialContents.Contains(content);
                result[id] = new AddedToken(content, Normalized: !special, Special: special);
            }
        }
        return result;
    }

    /// <summary>
    /// The special tokens: tokenizer_config.json's, overridden by special_tokens_map.json when the config has
    /// no added_tokens_decoder (transformers' legacy rule), on top of the class defaults.
    /// </summary>
    public SpecialTokens ReadSpecialTokens(SpecialTokens defaults)
    {
        var tokens = defaults.Clone();
        bool hasDecoder = Config.ContainsKey("added_tokens_decoder");
        foreach (string name in SpecialTokens.AttributeNames)
        {
            if (Config.TryGetPropertyValue(name, out var node))
            {
                tokens[name] = ParseAddedToken(node, $"{TokenizerConfigFile}: '{name}'", defaultSpecial: true);
            }
            if (!hasDecoder && SpecialTokensMap is not null && SpecialTokensMap.TryGetPropertyValue(name, out var mapNode) && mapNode is not null)
            {
                tokens[name] = ParseAddedToken(mapNode, $"{SpecialTokensMapFile}: '{name}'", defaultSpecial: true);
            }
        }
        var additional = new List<AddedToken>();
        if (JsonFields.GetArray(Config, "additional_special_tokens", TokenizerConfigFile) is { } list)
        {
            for (int i = 0; i < list.Count; i++)
            {
                additional.Add(ParseAddedToken(list[i], $"{TokenizerConfigFile}: additional_special_tokens[{i}]", defaultSpecial: true)!);
            }
        }
        if (!hasDecoder && SpecialTokensMap is not null
            && JsonFields.GetArray(SpecialTokensMap, "additional_special_tokens", SpecialTokensMapFile) is { } mapList)
        {
            for (int i = 0; i < mapList.Count; i++)
            {
                var token = ParseAddedToken(mapList[i], $"{SpecialTokensMapFile}: additional_special_tokens[{i}]", defaultSpecial: true)!;
                if (!additional.Exists(t => t.Content == token.Content)) additional.Add(token);
            }
        }
        if (additional.Count > 0) tokens.AdditionalSpecialTokens = additional;
        return tokens;
    }

    /// <summary>A token written as a string or as {"content": ..., "lstrip": ...}; null stays null.</summary>
    public static AddedToken? ParseAddedToken(JsonNode? node, string where, bool defaultSpecial)
    {
        switch (node)
        {
            case null:
                return null;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                string content = v.GetValue<string>();
                return new AddedToken(content, Normalized: !defaultSpecial, Special: defaultSpecial);
            case JsonObject o:
                string text = JsonFields.GetString(o, "content", where) ?? throw new InvalidDataException($"{where}: missing 'content'");
                bool special = JsonFields.GetBool(o, "special", where) ?? defaultSpecial;
                return new AddedToken(
                    text,
                    SingleWord: JsonFields.GetBool(o, "single_word", where) ?? false,
                    LStrip: JsonFields.GetBool(o, "lstrip", where) ?? false,
                    RStrip: JsonFields.GetBool(o, "rstrip", where) ?? false,
                    Normalized: JsonFields.GetBool(o, "normalized", where) ?? !special,
                    Special: special);
            default:
                throw new InvalidDataException($"{where} must be a string or an object with 'content', got {JsonFields.Kind(node)}");
        }
    }
}
