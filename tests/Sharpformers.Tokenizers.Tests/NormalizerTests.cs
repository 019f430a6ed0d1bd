using Sharpformers.TestSupport;
using Sharpformers.Tokenizers.Normalizers;
using Sharpformers.Tokenizers.SentencePiece;
using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.Tests;

/// <summary>Each normalizer, its output and the alignment of every output character with the original text.</summary>
public sealed class NormalizerTests
{
    /// <summary>The normalized text and, per output UTF-16 unit, the original range it came from.</summary>
    private static (string Text, (int, int)[] Alignments) Apply(INormalizer normalizer, string text)
    {
        var s = new NormalizedString(text);
        normalizer.Normalize(s);
        var alignments = Enumerable.Range(0, s.Length).Select(i => (s.AlignmentStart(i), s.AlignmentEnd(i))).ToArray();
        return (s.ToString(), alignments);
    }

    [Fact]
    public void BertNormalizerAsInTheCourse()
    {
        // Hugging Face course, chapter 6: tokenizer.backend_tokenizer.normalizer.normalize_str("Héllò hôw are ü?")
        var normalizer = new BertNormalizer(lowercase: true);
        Assert.Equal("hello how are u?", normalizer.NormalizeString("Héllò hôw are ü?"));
    }

    [Fact]
    public void BertNormalizerCleansIsolatesChineseStripsAndLowercases()
    {
        var (text, alignments) = Apply(new BertNormalizer(), "A\u0000\tÉ中b");
        // NUL removed; tab becomes a space; É → e (NFD, accent dropped, lowercased); 中 gets spaces around it.
        Assert.Equal("a e 中 b", text);
        Assert.Equal([(0, 1), (2, 3), (3, 4), (3, 4), (4, 5), (4, 5), (5, 6)], alignments);
    }

    [Fact]
    public void BertNormalizerOptions()
    {
        Assert.Equal("Café 中", new BertNormalizer(handleChineseChars: false, lowercase: false).NormalizeString("Café 中"));
        Assert.Equal("Cafe", new BertNormalizer(stripAccents: true, lowercase: false).NormalizeString("Café"));
        Assert.Equal("café", new BertNormalizer(stripAccents: false, lowercase: true).NormalizeString("CAFÉ"));
        Assert.Equal("a\u0001b", new BertNormalizer(cleanText: false, lowercase: false).NormalizeString("a\u0001b"));
    }

    [Fact]
    public void UnicodeFormsKeepAlignments()
    {
        var (nfd, nfdAlign) = Apply(new NfdNormalizer(), "é!");
        Assert.Equal("e\u0301!", nfd);
        Assert.Equal([(0, 1), (0, 1), (1, 2)], nfdAlign);

        var (nfc, nfcAlign) = Apply(new NfcNormalizer(), "e\u0301!");
        Assert.Equal("é!", nfc);
        Assert.Equal([(0, 2), (2, 3)], nfcAlign);

        var (nfkd, nfkdAlign) = Apply(new NfkdNormalizer(), "ﬁ²");
        Assert.Equal("fi2", nfkd);
        Assert.Equal([(0, 1), (0, 1), (1, 2)], nfkdAlign);

        Assert.Equal("Hello", new NfkcNormalizer().NormalizeString("Ｈｅｌｌｏ"));
    }

    [Fact]
    public void LowercaseIsPerCharacterWithFullMappings()
    {
        var (text, alignments) = Apply(new LowercaseNormalizer(), "İΣΣ");
        Assert.Equal("i\u0307σσ", text);
        Assert.Equal([(0, 1), (0, 1), (1, 2), (2, 3)], alignments);
    }

    [Fact]
    public void StripAccentsRemovesAllCombiningMarks()
    {
        var (text, alignments) = Apply(new StripAccentsNormalizer(), "e\u0304\u0304\u0304o");
        Assert.Equal("eo", text);
        Assert.Equal([(0, 1), (4, 5)], alignments);
        Assert.Equal("cafe", new SequenceNormalizer([new NfdNormalizer(), new StripAccentsNormalizer()]).NormalizeString("café"));
    }

    [Fact]
    public void StripRemovesOuterWhitespace()
    {
        var (text, alignments) = Apply(new StripNormalizer(), "  hi \u3000");
        Assert.Equal("hi", text);
        Assert.Equal([(2, 3), (3, 4)], alignments);
        Assert.Equal("hi  ", new StripNormalizer(left: true, right: false).NormalizeString("  hi  "));
        Assert.Equal("  hi", new StripNormalizer(left: false, right: true).NormalizeString("  hi  "));
    }

    [Fact]
    public void ReplaceWithStringAndRegex()
    {
        var (text, alignments) = Apply(new ReplaceNormalizer(SplitPattern.FromString("''"), "\""), "a''b");
        Assert.Equal("a\"b", text);
        Assert.Equal([(0, 1), (1, 2), (3, 4)], alignments);
        Assert.Equal("a b c", new ReplaceNormalizer(SplitPattern.FromRegex(" {2,}"), " ").NormalizeString("a    b  c"));
        var (longer, longerAlign) = Apply(new ReplaceNormalizer(SplitPattern.FromString(" "), "▁▁"), "a b");
        Assert.Equal("a▁▁b", longer);
        Assert.Equal([(0, 1), (1, 2), (1, 2), (2, 3)], longerAlign);
    }

    [Fact]
    public void PrependAlignsWithTheFirstCharacter()
    {
        var (text, alignments) = Apply(new PrependNormalizer("▁"), "hey");
        Assert.Equal("▁hey", text);
        Assert.Equal([(0, 1), (0, 1), (1, 2), (2, 3)], alignments);
        Assert.Equal("", new PrependNormalizer("▁").NormalizeString(""));
    }

    [Fact]
    public void PrecompiledCharsMapFromASentencePieceModel()
    {
        var proto = SentencePieceModelProto.Load(Path.Combine(Fixtures.Model("tiny-albert"), "spiece.model"));
        var normalizer = new PrecompiledNormalizer(PrecompiledCharsMap.Parse(proto.PrecompiledCharsmap!, "spiece.model"));
        // nmt_nfkc: full-width letters fold, a no-break space becomes a space, ﬁ becomes fi.
        var (text, alignments) = Apply(normalizer, "ＦＵ\u00A0ﬁ");
        Assert.Equal("FU fi", text);
        Assert.Equal([(0, 1), (1, 2), (2, 3), (3, 4), (3, 4)], alignments);
        Assert.Equal("plain text", normalizer.NormalizeString("plain text"));
    }

    [Fact]
    public void SequenceAppliesInOrder()
    {
        var sequence = new SequenceNormalizer([new NfdNormalizer(), new StripAccentsNormalizer(), new LowercaseNormalizer()]);
        Assert.Equal("ecole", sequence.NormalizeString("École"));
    }

    [Fact]
    public void ByteLevelNormalizerSpellsBytes()
    {
        var (text, alignments) = Apply(new ByteLevelNormalizer(), "a é");
        Assert.Equal("aĠÃ©", text);
        Assert.Equal([(0, 1), (1, 2), (2, 3), (2, 3)], alignments);
    }

    [Fact]
    public void AlbertPreprocessCollapsesSpacesAndQuotes()
    {
        var (text, alignments) = Apply(new AlbertPreprocessNormalizer(), "  A  ``b''  é ");
        Assert.Equal("a \"b\" e", text);
        // A replacement character takes the alignment of the first character it replaces, as in Hugging Face's Replace.
        Assert.Equal([(2, 3), (3, 4), (5, 6), (7, 8), (8, 9), (10, 11), (12, 13)], alignments);
    }
}
