namespace Sharpformers.Tokenizers.PostProcessors;

/// <summary>
/// The fourth stage: adds the special tokens around one or two encoded sequences ([CLS] A [SEP] B [SEP],
/// &lt;s&gt; A &lt;/s&gt;&lt;/s&gt; B &lt;/s&gt; ...), sets token type ids and, for byte-level tokenizers, trims offsets.
/// </summary>
public interface IPostProcessor
{
    /// <summary>How many special tokens are added to a single sequence or a pair.</summary>
    int AddedTokens(bool isPair);

    /// <summary>
    /// Processes the encodings of the sequences (one or two, type ids and sequence ids already set) and returns
    /// the pieces to concatenate, in order. Overflowing windows are processed along with their encoding.
    /// </summary>
    List<Encoding> ProcessEncodings(List<Encoding> encodings, bool addSpecialTokens);
}
