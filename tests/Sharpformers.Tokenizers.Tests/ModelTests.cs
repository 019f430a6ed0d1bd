using Sharpformers.TestSupport;
using Sharpformers.Tokenizers.Models;
using Sharpformers.Tokenizers.SentencePiece;
using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.Tests;

/// <summary>Each model on small vocabularies: tokens, ids and offsets within the word.</summary>
public sealed class ModelTests
{
    private static Vocabulary Vocab(params string[] tokens) =>
        new(tokens.Select((t, i) => (t, i)).ToDictionary(p => p.t, p => p.i));

    private static (string Value, int Id, int Start, int End)[] Run(ITokenizerModel model, string word)
    {
        var tokens = new List<Token>();
        model.Tokenize(word, tokens);
        return tokens.Select(t => (t.Value, t.Id, t.Start, t.End)).ToArray();
    }

    [Fact]
    public void WordPieceGreedyLongestMatch()
    {
        var model = new WordPieceModel(Vocab("[UNK]", "un", "##aff", "##able", "unaff", "##a", "##ble"));
        // "unaff" is longer than "un": the greedy match takes it, then "##able" beats "##a".
        Assert.Equal([("unaff", 4, 0, 5), ("##able", 3, 5, 9)], Run(model, "unaffable"));
        Assert.Equal([("[UNK]", 0, 0, 8)], Run(model, "unafxble"));
        Assert.Empty(Run(model, ""));
    }

    [Fact]
    public void WordPieceLongWordsAreUnknown()
    {
        var model = new WordPieceModel(Vocab("[UNK]", "a", "##a"), maxInputCharsPerWord: 5);
        Assert.Equal(5, Run(model, "aaaaa").Length);
        Assert.Equal([("[UNK]", 0, 0, 6)], Run(model, "aaaaaa"));
        // Code points are counted, not UTF-16 units: 3 emoji are 3 characters.
        var emoji = new WordPieceModel(Vocab("[UNK]", "😀", "##😀"), maxInputCharsPerWord: 3);
        Assert.Equal([("😀", 1, 0, 2), ("##😀", 2, 2, 4), ("##😀", 2, 4, 6)], Run(emoji, "😀😀😀"));
    }

    [Fact]
    public void WordPieceNeverSplitKeepsWordsWhole()
    {
        var model = new WordPieceModel(Vocab("[UNK]", "[", "##x", "##]", "[x]")) { NeverSplit = new HashSet<string> { "[x]", "[y]" } };
        Assert.Equal([("[x]", 4, 0, 3)], Run(model, "[x]"));
        Assert.Equal([("[UNK]", 0, 0, 3)], Run(model, "[y]"));
    }

    [Fact]
    public void BpeMergesLowestRankFirst()
    {
        var model = new BpeModel(Vocab("a", "b", "c", "ab", "bc", "abc"), [("b", "c"), ("a", "b"), ("a", "bc")]);
        // (b, c) has the lowest rank: "abc" → a + bc → abc.
        Assert.Equal([("abc", 5, 0, 3)], Run(model, "abc"));
        Assert.Equal([("c", 2, 0, 1), ("ab", 3, 1, 3)], Run(model, "cab"));
        var leftmost = new BpeModel(Vocab("a", "aa"), [("a", "a")]);
        Assert.Equal([("aa", 1, 0, 2), ("a", 0, 2, 3)], Run(leftmost, "aaa"));
    }

    [Fact]
    public void BpeSubwordPrefixAndWordSuffix()
    {
        var prefixed = new BpeModel(Vocab("a", "##b", "##c", "ab"), [("a", "##b")], continuingSubwordPrefix: "##");
        Assert.Equal([("ab", 3, 0, 2), ("##c", 2, 2, 3)], Run(prefixed, "abc"));
        var suffixed = new BpeModel(Vocab("a", "b</w>", "ab</w>"), [("a", "b</w>")], endOfWordSuffix: "</w>");
        Assert.Equal([("ab</w>", 2, 0, 2)], Run(suffixed, "ab"));
    }

    [Fact]
    public void BpeUnknownsAndByteFallback()
    {
        var fused = new BpeModel(Vocab("<unk>", "a"), [], unkToken: "<unk>", fuseUnk: true);
        Assert.Equal([("<unk>", 0, 0, 2), ("a", 1, 2, 3)], Run(fused, "xya"));
        var unfused = new BpeModel(Vocab("<unk>", "a"), [], unkToken: "<unk>");
        Assert.Equal([("<unk>", 0, 0, 1), ("<unk>", 0, 1, 2), ("a", 1, 2, 3)], Run(unfused, "xya"));
        var bytes = new BpeModel(Vocab("<unk>", "a", "<0xC3>", "<0xA9>"), [], unkToken: "<unk>", byteFallback: true);
        Assert.Equal([("a", 1, 0, 1), ("<0xC3>", 2, 1, 2), ("<0xA9>", 3, 1, 2), ("<unk>", 0, 2, 3)], Run(bytes, "aéx"));
        var dropped = new BpeModel(Vocab("a"), []);
        Assert.Equal([("a", 0, 1, 2)], Run(dropped, "xa"));
    }

    [Fact]
    public void BpeRejectsMergesOutsideTheVocabulary()
    {
        var e = Assert.Throws<InvalidDataException>(() => new BpeModel(Vocab("a", "b"), [("a", "b")], source: "merges.txt"));
        Assert.Contains("merges.txt: merge 1 ('a b') makes 'ab', which is not in the vocabulary", e.Message);
    }

    [Fact]
    public void UnigramFindsTheMostLikelySegmentation()
    {
        var model = new UnigramModel([("<unk>", 0), ("a", -1), ("b", -1), ("ab", -1.5), ("abc", -5), ("c", -1)], unkId: 0);
        Assert.Equal([("ab", 3, 0, 2)], Run(model, "ab"));
        Assert.Equal([("ab", 3, 0, 2), ("c", 5, 2, 3)], Run(model, "abc"));
        // Unknown characters are fused into one unknown token that keeps its text.
        Assert.Equal([("a", 1, 0, 1), ("xz", 0, 1, 3), ("b", 2, 3, 4)], Run(model, "axzb"));
        var bytes = new UnigramModel([("<unk>", 0), ("a", -1), ("<0xC3>", -2), ("<0xA9>", -2)], unkId: 0, byteFallback: true);
        Assert.Equal([("a", 1, 0, 1), ("<0xC3>", 2, 1, 2), ("<0xA9>", 3, 1, 2)], Run(bytes, "aé"));
    }

    [Fact]
    public void WordLevelLooksUpWholeWords()
    {
        var model = new WordLevelModel(Vocab("<unk>", "hello"), "<unk>");
        Assert.Equal([("hello", 1, 0, 5)], Run(model, "hello"));
        Assert.Equal([("<unk>", 0, 0, 5)], Run(model, "world"));
    }

    [Fact]
    public void SentencePieceModelProtoIsReadFromTheFile()
    {
        var albert = SentencePieceModelProto.Load(Path.Combine(Fixtures.Model("tiny-albert"), "spiece.model"));
        Assert.Equal(800, albert.Pieces.Count);
        Assert.Equal(SentencePieceModelType.Unigram, albert.ModelType);
        Assert.Equal(1, albert.UnkId);
        Assert.Equal(new SentencePieceEntry("<pad>", 0, SentencePieceType.Control), albert.Pieces[0]);
        Assert.Equal(-3.1724250316619873f, albert.Pieces[5].Score);
        Assert.True(albert.AddDummyPrefix && albert.RemoveExtraWhitespaces && albert.EscapeWhitespaces);
        Assert.Equal(237_561, albert.PrecompiledCharsmap!.Length);

        var xlmr = SentencePieceModelProto.Load(Path.Combine(Fixtures.Model("tiny-xlm-roberta"), "sentencepiece.bpe.model"));
        Assert.Equal(SentencePieceModelType.Bpe, xlmr.ModelType);
        Assert.Equal(-1, xlmr.PadId);
    }

    [Fact]
    public void SentencePieceEncodesWithOffsetsAndDecodes()
    {
        var proto = SentencePieceModelProto.Load(Path.Combine(Fixtures.Model("tiny-albert"), "spiece.model"));
        var sp = new SentencePieceProcessor(proto);
        string text = "  i hate this!";
        var pieces = sp.Encode(text);
        Assert.Equal(["▁i", "▁hate", "▁this", "!"], pieces.Select(p => p.Piece));
        // Leading spaces are dropped; each piece's range covers its text and the space before it.
        Assert.Equal([(2, 3), (3, 8), (8, 13), (13, 14)], pieces.Select(p => (p.Start, p.End)));
        Assert.Equal("i hate this!", sp.DecodePieces(pieces.Select(p => p.Piece).ToList()));
        // The unknown piece shows as " ⁇ "; a piece string that is not in the vocabulary comes back as it is.
        Assert.Equal(" \u2047  i", sp.DecodePieces(["<unk>", "▁i"]));
        Assert.Equal("▁zz", sp.DecodePieces(["▁zz"]));
    }
}
