namespace Sharpformers.Tokenizers.Serialization;

/// <summary>
/// Loads a folder's tokenizer.json the way transformers' <c>PreTrainedTokenizerFast</c> does: the pipeline
/// from tokenizer.json (Rust semantics), special tokens, model_max_length and the other settings from
/// tokenizer_config.json / special_tokens_map.json.
/// </summary>
internal static class TokenizerJsonLoader
{
    private static readonly string[] DefaultModelInputNames = ["input_ids", "token_type_ids", "attention_mask"];

    public static PreTrainedTokenizer LoadFromFolder(TokenizerFiles files, TokenizerClassInfo? info, string? className)
    {
        var pipeline = TokenizerJsonReader.Read(files.PathOf(TokenizerFiles.TokenizerJsonFile));
        var specials = files.ReadSpecialTokens(info?.Defaults() ?? new SpecialTokens());
        var added = pipeline.AddedVocabulary;
        var specialContents = specials.All.Select(t => t.Content).ToHashSet(StringComparer.Ordinal);
        foreach (var (id, token) in files.ReadAddedTokensDecoder(specialContents))
        {
            if (added.TokenToId(token.Content) is null) added.Add(token, id);
        }
        foreach (string name in SpecialTokens.AttributeNames)
        {
            if (specials[name] is { } t && added.TokenToId(t.Content) is int id && added.IdToToken(id) is { } fromVocab) specials[name] = fromVocab;
        }
        foreach (var special in specials.All)
        {
            if (added.TokenToId(special.Content) is null) added.Add(special with { Special = true }, pipeline.Model);
        }
        BertFastPath.TryInstall(pipeline);
        ByteLevelBpeFastPath.TryInstall(pipeline);
        var classInfo = info ?? new TokenizerClassInfo(className ?? "PreTrainedTokenizerFast", TokenizerFamily.WordPiece,
            DefaultModelInputNames, () => new SpecialTokens());
        return VocabFileLoader.Finish(files, classInfo, pipeline, specials, slowDecoder: null, slowVocabSize: null, rawFiles: [],
            isFast: true, className: className ?? classInfo.Name);
    }
}
