using Sharpformers.Tokenizers.PostProcessors;

namespace Sharpformers.Tokenizers;

public sealed partial class PreTrainedTokenizer
{
    /// <summary>transformers' LARGE_INTEGER: a model_max_length above it means "no limit".</summary>
    private const double LargeInteger = 1e20;

    /// <summary>The padding and truncation a call resolves to (transformers' <c>_get_padding_truncation_strategies</c>).</summary>
    internal readonly record struct ResolvedPlan(PaddingStrategy Padding, TruncationStrategy Truncation, int? MaxLength);

    private bool HasBoundedMaxLength => ModelMaxLength <= LargeInteger && ModelMaxLength < int.MaxValue;

    internal ResolvedPlan Plan(EncodeOptions options)
    {
        if (options.MaxLength is < 0) throw new ArgumentException($"max_length must not be negative, got {options.MaxLength}", nameof(options));
        if (options.Stride < 0) throw new ArgumentException($"stride must not be negative, got {options.Stride}", nameof(options));
        if (options.PadToMultipleOf is <= 0) throw new ArgumentException($"pad_to_multiple_of must be positive, got {options.PadToMultipleOf}", nameof(options));
        var padding = options.Padding.Strategy;
        var truncationArgument = options.Truncation.Strategy;
        // A max_length alone (no padding, truncation unspecified) turns truncation on, as transformers does.
        if (options.MaxLength is not null && padding == PaddingStrategy.DoNotPad && truncationArgument is null)
        {
            truncationArgument = TruncationStrategy.LongestFirst;
        }
        var truncation = truncationArgument ?? TruncationStrategy.DoNotTruncate;
        int? maxLength = options.MaxLength;
        if (maxLength is null)
        {
            if (padding == PaddingStrategy.MaxLength)
            {
                if (HasBoundedMaxLength) maxLength = (int)ModelMaxLength;
                else padding = PaddingStrategy.DoNotPad; // transformers warns and does not pad
            }
            if (truncation != TruncationStrategy.DoNotTruncate)
            {
                if (HasBoundedMaxLength) maxLength = (int)ModelMaxLength;
                else truncation = TruncationStrategy.DoNotTruncate; // transformers warns and does not truncate
            }
        }
        if (padding != PaddingStrategy.DoNotPad && PadTokenId is null)
        {
            throw new InvalidOperationException(
                "Asking to pad but the tokenizer does not have a padding token: set SpecialTokens.PadToken (for example to the eos token) first.");
        }
        if (truncation != TruncationStrategy.DoNotTruncate && padding != PaddingStrategy.DoNotPad
            && options.PadToMultipleOf is { } multiple && maxLength is { } ml && ml % multiple != 0)
        {
            throw new ArgumentException(
                $"Truncation and padding are both activated but truncation length ({ml}) is not a multiple of pad_to_multiple_of ({multiple}).");
        }
        return new ResolvedPlan(padding, truncation, maxLength);
    }

    /// <summary>Encodes one input, truncates it the way the Python tokenizers do, and adds the special tokens.</summary>
    internal Encoding EncodeTruncated(string text, string? pair, EncodeOptions options, ResolvedPlan plan)
    {
        var first = Pipeline.EncodeSequence(text, 0);
        var second = pair is null ? null : Pipeline.EncodeSequence(pair, 1);
        if (plan.Truncation != TruncationStrategy.DoNotTruncate && plan.MaxLength is int maxLength)
        {
            int specials = options.AddSpecialTokens ? Pipeline.NumSpecialTokensToAdd(second is not null) : 0;
            int total = first.Length + (second?.Length ?? 0) + specials;
            if (total > maxLength)
            {
                Truncate(first, second, total - maxLength, plan.Truncation, options);
            }
        }
        return EncodingMerger.Process(Pipeline.PostProcessor, first, second, options.AddSpecialTokens);
    }

    /// <summary>
    /// transformers' <c>truncate_sequences</c>: which tokens go follows the Python tokenizers exactly; the
    /// removed tokens become overflowing windows (of the kept length, overlapping by the stride) as in the fast
    /// tokenizers. When a sequence is too short to lose that many tokens, nothing is truncated (transformers
    /// logs an error and leaves the input as it is).
    /// </summary>
    private void Truncate(Encoding first, Encoding? second, int toRemove, TruncationStrategy strategy, EncodeOptions options)
    {
        int stride = options.ReturnOverflowingTokens ? options.Stride : 0;
        bool keepOverflow = options.ReturnOverflowingTokens;
        if (strategy == TruncationStrategy.OnlyFirst || strategy == TruncationStrategy.LongestFirst && second is null)
        {
            if (first.Length > toRemove) first.Truncate(first.Length - toRemove, stride, TruncationSide, keepOverflow);
            return;
        }
        if (strategy == TruncationStrategy.LongestFirst)
        {
            int lengthFirst = first.Length, lengthSecond = second!.Length;
            int firstRemove = Math.Min(Math.Abs(lengthSecond - lengthFirst), toRemove);
            int secondRemove = toRemove - firstRemove;
            int idsToMove, pairToMove;
            if (lengthFirst > lengthSecond)
            {
                idsToMove = firstRemove + secondRemove / 2;
                pairToMove = secondRemove - secondRemove / 2;
            }
            else
            {
                idsToMove = secondRemove / 2;
                pairToMove = firstRemove + secondRemove - secondRemove / 2;
            }
            if (idsToMove > 0) first.Truncate(Math.Max(0, lengthFirst - idsToMove), stride, TruncationSide, keepOverflow);
            if (pairToMove > 0) second.Truncate(Math.Max(0, lengthSecond - pairToMove), stride, TruncationSide, keepOverflow);
            return;
        }
        if (strategy == TruncationStrategy.OnlySecond && second is not null && second.Length > toRemove)
        {
            second.Truncate(second.Length - toRemove, stride, TruncationSide, keepOverflow);
        }
    }

    /// <summary>Pads the rows as transformers' <c>pad</c> does (longest of the batch or max_length, rounded up to a multiple).</summary>
    private void PadRows(List<Encoding> rows, ResolvedPlan plan, EncodeOptions options)
    {
        if (plan.Padding == PaddingStrategy.DoNotPad || rows.Count == 0) return;
        int target;
        if (plan.Padding == PaddingStrategy.Longest)
        {
            target = 0;
            foreach (var r in rows) target = Math.Max(target, r.Length);
        }
        else
        {
            target = plan.MaxLength!.Value;
        }
        if (options.PadToMultipleOf is { } multiple && target % multiple != 0) target = (target / multiple + 1) * multiple;
        int padId = PadTokenId!.Value;
        string padToken = SpecialTokens.PadToken!.Content;
        var side = options.PaddingSide ?? PaddingSide;
        foreach (var r in rows) r.Pad(target, padId, PadTokenTypeId, padToken, side);
    }
}
