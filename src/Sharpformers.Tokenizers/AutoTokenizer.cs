using Sharpformers.Tokenizers.Serialization;

namespace Sharpformers.Tokenizers;

/// <summary>
/// Loads the right tokenizer for a model folder, like transformers' <c>AutoTokenizer</c>: the class comes from
/// tokenizer_config.json (<c>tokenizer_class</c>), else config.json (<c>model_type</c>), else the files present;
/// tokenizer.json is preferred when present (transformers' fast tokenizers), else the vocabulary files
/// (vocab.txt; vocab.json + merges.txt; spiece.model, sentencepiece.bpe.model, spm.model).
/// </summary>
public static class AutoTokenizer
{
    public static PreTrainedTokenizer FromPretrained(string pathOrName, TokenizerLoadOptions? options = null)
    {
        options ??= new TokenizerLoadOptions();
        string folder = TokenizerSource.ResolveFolder(pathOrName, options);
        var files = TokenizerFiles.Read(folder, options.ConfigOverrides);
        string? className = files.DeclaredTokenizerClass
            ?? (files.ModelType is { } modelType ? TokenizerClassInfo.ClassForModelType(modelType) : null)
            ?? InferClassFromFiles(files);
        var info = className is null ? null : TokenizerClassInfo.FromName(className);
        if (options.UseFast && files.Has(TokenizerFiles.TokenizerJsonFile))
        {
            return TokenizerJsonLoader.LoadFromFolder(files, info, className);
        }
        if (className is null)
        {
            throw new FileNotFoundException(
                $"cannot tell which tokenizer {folder} holds: it has no tokenizer.json, no tokenizer_class in tokenizer_config.json, "
                + "no model_type in config.json, and none of vocab.txt, vocab.json + merges.txt, spiece.model, sentencepiece.bpe.model, spm.model");
        }
        if (info is null)
        {
            throw new NotSupportedException(
                $"{folder}: tokenizer class '{className}' has no tokenizer.json here and is not one this library builds from vocabulary files "
                + $"({string.Join(", ", TokenizerClassInfo.KnownClasses)})");
        }
        string[] candidates = VocabFileLoader.VocabFiles[info.Family];
        if (!candidates.Any(files.Has))
        {
            string expected = info.Family == TokenizerFamily.ByteLevelBpe ? "vocab.json and merges.txt" : candidates[0];
            throw new FileNotFoundException($"{info.Name} needs {expected} in {folder}, and it is missing", Path.Combine(folder, candidates[0]));
        }
        return VocabFileLoader.Load(files, info);
    }

    private static string? InferClassFromFiles(TokenizerFiles files)
    {
        if (files.Has("vocab.txt")) return "BertTokenizer";
        if (files.Has("sentencepiece.bpe.model")) return "XLMRobertaTokenizer";
        if (files.Has("spiece.model")) return "AlbertTokenizer";
        if (files.Has("spm.model")) return "DebertaV2Tokenizer";
        if (files.Has("encoder.json") && files.Has("vocab.bpe")) return "GPT2Tokenizer";
        if (files.Has("vocab.json") && files.Has("merges.txt"))
        {
            // RoBERTa's vocabulary starts with <s>; GPT-2's has <|endoftext|> at the end.
            string head = File.ReadAllText(files.PathOf("vocab.json"));
            return head.Contains("\"<s>\"", StringComparison.Ordinal) ? "RobertaTokenizer" : "GPT2Tokenizer";
        }
        return null;
    }
}
