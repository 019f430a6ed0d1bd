namespace Sharpformers.Tokenizers.PostProcessors;

/// <summary>
/// Runs a post-processor over one or two encodings and concatenates the result, combining the overflowing
/// windows the way Hugging Face's <c>Encoding::merge_with</c> does: each window of the first part with the
/// second part and its windows, then the first part with each window of the second.
/// </summary>
public static class EncodingMerger
{
    /// <summary>Hugging Face's <c>PostProcessor::process</c> (or the default when <paramref name="processor"/> is null).</summary>
    public static Encoding Process(IPostProcessor? processor, Encoding first, Encoding? second, bool addSpecialTokens)
    {
        var encodings = new List<Encoding>(2) { first };
        if (second is not null) encodings.Add(second);
        for (int i = 0; i < encodings.Count; i++)
        {
            encodings[i].SetSequenceId(i);
            encodings[i].SetTypeIds(i);
        }
        var pieces = processor is null ? encodings : processor.ProcessEncodings(encodings, addSpecialTokens);
        return Merge(pieces);
    }

    /// <summary>Concatenates encodings left to right, combining their overflowing windows.</summary>
    public static Encoding Merge(IReadOnlyList<Encoding> parts)
    {
        if (parts.Count == 0) return Encoding.Empty;
        if (parts.Count == 1) return parts[0];
        bool anyOverflow = false;
        foreach (var p in parts) anyOverflow |= p.Overflowing.Count > 0;
        if (!anyOverflow) return Encoding.Concat(parts);
        var result = parts[0];
        for (int i = 1; i < parts.Count; i++) result = MergeWith(result, parts[i]);
        return result;
    }

    private static Encoding MergeWith(Encoding self, Encoding pair)
    {
        var overflowing = new List<Encoding>();
        foreach (var selfOverflow in self.Overflowing)
        {
            overflowing.Add(MergeWith(Strip(selfOverflow), Strip(pair)));
            foreach (var pairOverflow in pair.Overflowing) overflowing.Add(MergeWith(Strip(selfOverflow), Strip(pairOverflow)));
        }
        foreach (var pairOverflow in pair.Overflowing) overflowing.Add(MergeWith(Strip(self), Strip(pairOverflow)));
        var merged = Encoding.Concat([self, pair]);
        merged.Overflowing = overflowing;
        return merged;
    }

    private static Encoding Strip(Encoding e)
    {
        if (e.Overflowing.Count == 0) return e;
        var copy = e.Clone();
        copy.Overflowing = [];
        return copy;
    }

    /// <summary>Applies <paramref name="wrap"/> to an encoding and to each of its overflowing windows.</summary>
    internal static Encoding WrapWithOverflow(Encoding encoding, Func<Encoding, Encoding> wrap)
    {
        var main = wrap(encoding);
        if (encoding.Overflowing.Count > 0)
        {
            var windows = new List<Encoding>(encoding.Overflowing.Count);
            foreach (var o in encoding.Overflowing) windows.Add(wrap(o));
            main.Overflowing = windows;
        }
        return main;
    }

    /// <summary>An encoding made of special tokens only (mask 1, no word, no sequence, offsets (0, 0)).</summary>
    internal static Encoding Special(IReadOnlyList<int> ids, IReadOnlyList<string> tokens, int typeId)
    {
        int n = ids.Count;
        var wordIds = new int[n];
        var sequenceIds = new int[n];
        var mask = new int[n];
        var attention = new int[n];
        var typeIds = new int[n];
        Array.Fill(wordIds, -1);
        Array.Fill(sequenceIds, -1);
        Array.Fill(mask, 1);
        Array.Fill(attention, 1);
        Array.Fill(typeIds, typeId);
        return new Encoding(ids.ToArray(), typeIds, tokens.ToArray(), new (int, int)[n], wordIds, sequenceIds, mask, attention);
    }
}
