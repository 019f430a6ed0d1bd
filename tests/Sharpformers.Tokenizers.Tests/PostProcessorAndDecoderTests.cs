using Sharpformers.Tokenizers.Decoders;
using Sharpformers.Tokenizers.PostProcessors;
using Sharpformers.Tokenizers.PreTokenizers;
using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.Tests;

/// <summary>Each post-processor (special tokens, type ids, masks, offsets) and each decoder.</summary>
public sealed class PostProcessorAndDecoderTests
{
    /// <summary>An encoding as a model produces it: given tokens, ids from 10 up, the given offsets, one word each.</summary>
    private static Encoding Seq(params (string Token, int Start, int End)[] tokens)
    {
        int n = tokens.Length;
        return new Encoding(
            tokens.Select((_, i) => 10 + i).ToArray(), new int[n], tokens.Select(t => t.Token).ToArray(),
            tokens.Select(t => (t.Start, t.End)).ToArray(), Enumerable.Range(0, n).ToArray(), new int[n], new int[n],
            Enumerable.Repeat(1, n).ToArray());
    }

    [Fact]
    public void BertProcessingAddsClsAndSepWithTypeIds()
    {
        var processor = new BertProcessing("[SEP]", 102, "[CLS]", 101);
        Assert.Equal(2, processor.AddedTokens(false));
        Assert.Equal(3, processor.AddedTokens(true));
        var e = EncodingMerger.Process(processor, Seq(("hello", 0, 5)), Seq(("there", 0, 5), ("!", 5, 6)), addSpecialTokens: true);
        Assert.Equal(["[CLS]", "hello", "[SEP]", "there", "!", "[SEP]"], e.Tokens);
        Assert.Equal([101, 10, 102, 10, 11, 102], e.Ids);
        Assert.Equal([0, 0, 0, 1, 1, 1], e.TypeIds);
        Assert.Equal([1, 0, 1, 0, 0, 1], e.SpecialTokensMask);
        Assert.Equal([null, 0, null, 1, 1, null], e.SequenceIds);
        Assert.Equal([null, 0, null, 0, 1, null], e.WordIds);
        Assert.Equal([(0, 0), (0, 5), (0, 0), (0, 5), (5, 6), (0, 0)], e.Offsets);

        var plain = EncodingMerger.Process(processor, Seq(("hello", 0, 5)), Seq(("x", 0, 1)), addSpecialTokens: false);
        Assert.Equal(["hello", "x"], plain.Tokens);
        Assert.Equal([0, 1], plain.TypeIds);
    }

    [Fact]
    public void RobertaProcessingDoublesSepAndTrimsOffsets()
    {
        var processor = new RobertaProcessing("</s>", 2, "<s>", 0, trimOffsets: true, addPrefixSpace: false);
        Assert.Equal(4, processor.AddedTokens(true));
        var e = EncodingMerger.Process(processor, Seq(("Hello", 0, 5), ("Ġworld", 5, 11)), Seq(("Ġyes", 0, 4)), addSpecialTokens: true);
        Assert.Equal(["<s>", "Hello", "Ġworld", "</s>", "</s>", "Ġyes", "</s>"], e.Tokens);
        Assert.Equal([0, 0, 0, 0, 0, 0, 0], e.TypeIds);
        // The leading space ('Ġ') is left out of the offsets.
        Assert.Equal([(0, 0), (0, 5), (6, 11), (0, 0), (0, 0), (1, 4), (0, 0)], e.Offsets);
    }

    [Fact]
    public void TemplateProcessingFollowsTheTemplate()
    {
        var processor = new TemplateProcessing(
            new[] { "[CLS]", "$A", "[SEP]" }.Select(TemplatePiece.Parse).ToList(),
            new[] { "[CLS]", "$A", "[SEP]", "$B:1", "[SEP]:1" }.Select(TemplatePiece.Parse).ToList(),
            new Dictionary<string, TemplateSpecialToken>
            {
                ["[CLS]"] = new("[CLS]", [1], ["[CLS]"]),
                ["[SEP]"] = new("[SEP]", [2], ["[SEP]"]),
            });
        Assert.Equal(3, processor.AddedTokens(true));
        var e = EncodingMerger.Process(processor, Seq(("a", 0, 1)), Seq(("b", 0, 1)), addSpecialTokens: true);
        Assert.Equal([1, 10, 2, 10, 2], e.Ids);
        Assert.Equal([0, 0, 0, 1, 1], e.TypeIds);
        Assert.Equal([1, 0, 1, 0, 1], e.SpecialTokensMask);
        Assert.Throws<InvalidDataException>(() => new TemplateProcessing([TemplatePiece.Parse("<x>")], [], new Dictionary<string, TemplateSpecialToken>()));
    }

    [Fact]
    public void ByteLevelProcessingTrimsSpacesOnly()
    {
        var e = EncodingMerger.Process(new ByteLevelProcessing(addPrefixSpace: true), Seq(("Ġhi", 0, 3), ("ĠĠ", 3, 5)), null, true);
        // With add_prefix_space the first token keeps its single leading space; others lose theirs.
        Assert.Equal([(0, 3), (5, 5)], e.Offsets);
        Assert.Equal(0, new ByteLevelProcessing().AddedTokens(true));
    }

    [Fact]
    public void OverflowingWindowsGetSpecialTokensToo()
    {
        var first = Seq(("a", 0, 1), ("b", 1, 2), ("c", 2, 3), ("d", 3, 4));
        first.Truncate(2, 1, Side.Right);
        Assert.Equal(["a", "b"], first.Tokens);
        Assert.Equal([["b", "c"], ["c", "d"]], first.Overflowing.Select(o => o.Tokens));
        var e = EncodingMerger.Process(new BertProcessing("[SEP]", 102, "[CLS]", 101), first, null, true);
        Assert.Equal(["[CLS]", "a", "b", "[SEP]"], e.Tokens);
        Assert.Equal([["[CLS]", "b", "c", "[SEP]"], ["[CLS]", "c", "d", "[SEP]"]], e.Overflowing.Select(o => o.Tokens));
    }

    [Fact]
    public void SequenceProcessingChains()
    {
        var processor = new SequenceProcessing([new ByteLevelProcessing(addPrefixSpace: false), new RobertaProcessing("</s>", 2, "<s>", 0, trimOffsets: false)]);
        var e = EncodingMerger.Process(processor, Seq(("Ġx", 0, 2)), null, true);
        Assert.Equal(["<s>", "Ġx", "</s>"], e.Tokens);
        Assert.Equal((1, 2), e.Offsets[1]);
    }

    [Fact]
    public void WordPieceDecoderJoinsAndCleansUp()
    {
        // The Rust decoder cleans up token by token, so " ' " (which spans tokens) stays; transformers' own
        // clean-up of the whole string then makes it "isn't".
        string decoded = Decode(new WordPieceDecoder(), "un", "##aff", "##able", ",", "isn", "'", "t", "it", "?");
        Assert.Equal("unaffable, isn ' t it?", decoded);
        Assert.Equal("unaffable, isn't it?", DecoderCleanup.CleanupTransformers(decoded));
        Assert.Equal("a , b", Decode(new WordPieceDecoder(cleanup: false), "a", ",", "b"));
    }

    [Fact]
    public void ByteLevelDecoderRebuildsUtf8()
    {
        Assert.Equal("Hello café 😀", Decode(new ByteLevelDecoder(), "Hello", "Ġcaf", "Ã©", "ĠðŁĺ", "Ģ"));
        Assert.Equal("a\uFFFD", Decode(new ByteLevelDecoder(), "a", "Ã"));
    }

    [Fact]
    public void MetaspaceDecoderTurnsMarkersIntoSpaces()
    {
        Assert.Equal("Hey friend!", Decode(new MetaspaceDecoder(), "▁Hey", "▁friend", "!"));
        Assert.Equal(" Hey", Decode(new MetaspaceDecoder(prependScheme: PrependScheme.Never), "▁Hey"));
    }

    [Fact]
    public void SmallDecoders()
    {
        Assert.Equal("hello world", Decode(new BpeDecoder(), "hel", "lo</w>", "world</w>"));
        Assert.Equal("é!", Decode(new ByteFallbackDecoder(), "<0xC3>", "<0xA9>", "!"));
        Assert.Equal("\uFFFD\uFFFDx", Decode(new ByteFallbackDecoder(), "<0xC3>", "<0xC3>", "x"));
        Assert.Equal(["abc"], new FuseDecoder().DecodeChain(["a", "b", "c"]));
        Assert.Equal(["ab", "c"], new StripDecoder(' ', 1, 1).DecodeChain([" ab ", "c "]));
        Assert.Equal("a b", Decode(new ReplaceDecoder(SplitPattern.FromString("▁"), " "), "a▁b"));
        Assert.Equal("hello world", Decode(new CtcDecoder(), "<pad>", "h", "e", "l", "l", "<pad>", "l", "o", "|", "w", "o", "r", "l", "d"));
        var llama = new SequenceDecoder([new ReplaceDecoder(SplitPattern.FromString("▁"), " "), new ByteFallbackDecoder(), new FuseDecoder(),
            new StripDecoder(' ', 1, 0)]);
        Assert.Equal("Hi é", Decode(llama, "▁Hi", "▁", "<0xC3>", "<0xA9>"));
    }

    private static string Decode(IDecoder decoder, params string[] tokens) => string.Concat(decoder.DecodeChain([.. tokens]));
}
