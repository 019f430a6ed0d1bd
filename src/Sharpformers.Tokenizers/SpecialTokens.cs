namespace Sharpformers.Tokenizers;

/// <summary>
/// The named special tokens of a tokenizer (transformers' <c>special_tokens_map</c>): bos, eos, unk, sep, pad,
/// cls, mask and the additional ones. Each is an <see cref="AddedToken"/> or null.
/// </summary>
public sealed class SpecialTokens
{
    /// <summary>The attribute names in transformers' order (SPECIAL_TOKENS_ATTRIBUTES).</summary>
    public static readonly IReadOnlyList<string> AttributeNames =
        ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"];

    public AddedToken? BosToken { get; set; }

    public AddedToken? EosToken { get; set; }

    public AddedToken? UnkToken { get; set; }

    public AddedToken? SepToken { get; set; }

    public AddedToken? PadToken { get; set; }

    public AddedToken? ClsToken { get; set; }

    public AddedToken? MaskToken { get; set; }

    public List<AddedToken> AdditionalSpecialTokens { get; set; } = [];

    /// <summary>Gets or sets a slot by its transformers name ("bos_token" ...).</summary>
    public AddedToken? this[string attribute]
    {
        get => attribute switch
        {
            "bos_token" => BosToken,
            "eos_token" => EosToken,
            "unk_token" => UnkToken,
            "sep_token" => SepToken,
            "pad_token" => PadToken,
            "cls_token" => ClsToken,
            "mask_token" => MaskToken,
            _ => throw new ArgumentException($"unknown special token attribute '{attribute}'", nameof(attribute)),
        };
        set
        {
            switch (attribute)
            {
                case "bos_token": BosToken = value; break;
                case "eos_token": EosToken = value; break;
                case "unk_token": UnkToken = value; break;
                case "sep_token": SepToken = value; break;
                case "pad_token": PadToken = value; break;
                case "cls_token": ClsToken = value; break;
                case "mask_token": MaskToken = value; break;
                default: throw new ArgumentException($"unknown special token attribute '{attribute}'", nameof(attribute));
            }
        }
    }

    /// <summary>Every special token, named slots first then additional ones, without duplicates (all_special_tokens).</summary>
    public IReadOnlyList<AddedToken> All
    {
        get
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var result = new List<AddedToken>();
            foreach (string name in AttributeNames)
            {
                var t = this[name];
                if (t is not null && seen.Add(t.Content)) result.Add(t);
            }
            foreach (var t in AdditionalSpecialTokens)
            {
                if (seen.Add(t.Content)) result.Add(t);
            }
            return result;
        }
    }

    public SpecialTokens Clone() => new()
    {
        BosToken = BosToken,
        EosToken = EosToken,
        UnkToken = UnkToken,
        SepToken = SepToken,
        PadToken = PadToken,
        ClsToken = ClsToken,
        MaskToken = MaskToken,
        AdditionalSpecialTokens = [.. AdditionalSpecialTokens],
    };
}
