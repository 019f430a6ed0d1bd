namespace Sharpformers.Tokenizers;

public sealed partial class PreTrainedTokenizer
{
    /// <summary>
    /// Pads already-encoded sequences into a batch (transformers' <c>tokenizer.pad</c>, what
    /// DataCollatorWithPadding uses): to the longest of them, or to <paramref name="maxLength"/> (default the
    /// model's maximum) with <see cref="PaddingStrategy.MaxLength"/>, rounded up to <paramref name="padToMultipleOf"/>.
    /// The encodings are copied, not changed.
    /// </summary>
    public BatchEncoding Pad(IReadOnlyList<Encoding> encodings, Padding padding, int? maxLength = null, int? padToMultipleOf = null,
        Side? paddingSide = null)
    {
        ArgumentNullException.ThrowIfNull(encodings);
        var options = new EncodeOptions { Padding = padding, MaxLength = maxLength, PadToMultipleOf = padToMultipleOf, PaddingSide = paddingSide };
        var plan = Plan(options with { Truncation = Truncation.None });
        var rows = encodings.Select(e => e.Clone()).ToList();
        PadRows(rows, plan, options);
        return new BatchEncoding(rows, ModelInputNames, null);
    }
}
