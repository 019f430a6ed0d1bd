namespace Sharpformers.Tokenizers.PostProcessors;

/// <summary>One element of a template: a sequence (A or B) or a special token, with the type id its tokens get.</summary>
public readonly record struct TemplatePiece(bool IsSequence, string Id, int TypeId)
{
    public static TemplatePiece Sequence(string sequenceId, int typeId) => new(true, sequenceId, typeId);

    public static TemplatePiece SpecialToken(string tokenId, int typeId) => new(false, tokenId, typeId);

    /// <summary>Parses "$A", "$B:1", "[CLS]", "[SEP]:1" (the template string syntax).</summary>
    public static TemplatePiece Parse(string piece)
    {
        string body = piece;
        int typeId = 0;
        int colon = piece.LastIndexOf(':');
        if (colon > 0 && int.TryParse(piece.AsSpan(colon + 1), System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out int parsed))
        {
            body = piece[..colon];
            typeId = parsed;
        }
        if (body.StartsWith('$'))
        {
            string name = body[1..];
            if (name.Length == 0) return Sequence("A", typeId);
            if (name is "A" or "B") return Sequence(name, typeId);
            if (int.TryParse(name, out int n)) return Sequence("A", n);
            throw new FormatException($"template piece '{piece}': a sequence must be $A or $B");
        }
        return SpecialToken(body, typeId);
    }
}

/// <summary>A special token of a template: its name and the ids and tokens it stands for.</summary>
public sealed record TemplateSpecialToken(string Id, IReadOnlyList<int> Ids, IReadOnlyList<string> Tokens);

/// <summary>
/// Adds special tokens by template (Hugging Face's <c>TemplateProcessing</c>), e.g. single "[CLS] $A [SEP]",
/// pair "[CLS] $A [SEP] $B:1 [SEP]:1".
/// </summary>
public sealed class TemplateProcessing : IPostProcessor
{
    // The special-token pieces by (token id, type id); shared and never modified (merging copies out of them).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string, int), Encoding> specialPieces = new();

    public TemplateProcessing(IReadOnlyList<TemplatePiece> single, IReadOnlyList<TemplatePiece> pair,
        IReadOnlyDictionary<string, TemplateSpecialToken> specialTokens)
    {
        Single = single;
        Pair = pair;
        SpecialTokens = specialTokens;
        foreach (var piece in single.Concat(pair))
        {
            if (!piece.IsSequence && !specialTokens.ContainsKey(piece.Id))
            {
                throw new InvalidDataException($"TemplateProcessing: the template uses '{piece.Id}', which is not among its special_tokens");
            }
        }
    }

    public IReadOnlyList<TemplatePiece> Single { get; }

    public IReadOnlyList<TemplatePiece> Pair { get; }

    public IReadOnlyDictionary<string, TemplateSpecialToken> SpecialTokens { get; }

    public int AddedTokens(bool isPair)
    {
        int n = 0;
        foreach (var piece in isPair ? Pair : Single)
        {
            if (!piece.IsSequence) n += SpecialTokens[piece.Id].Ids.Count;
        }
        return n;
    }

    public List<Encoding> ProcessEncodings(List<Encoding> encodings, bool addSpecialTokens)
    {
        var template = encodings.Count == 2 ? Pair : Single;
        var result = new List<Encoding>(template.Count);
        foreach (var piece in template)
        {
            if (piece.IsSequence)
            {
                int index = piece.Id == "A" ? 0 : 1;
                if (index >= encodings.Count) continue;
                var e = encodings[index];
                e.SetTypeIds(piece.TypeId);
                e.SetSequenceId(index);
                result.Add(e);
            }
            else if (addSpecialTokens)
            {
                result.Add(specialPieces.GetOrAdd((piece.Id, piece.TypeId), key =>
                    EncodingMerger.Special(SpecialTokens[key.Item1].Ids, SpecialTokens[key.Item1].Tokens, key.Item2)));
            }
        }
        return result;
    }
}
