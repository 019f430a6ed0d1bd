namespace Sharpformers.Tokenizers;

/// <summary>
/// A token added on top of the model's vocabulary, with Hugging Face's matching options.
/// </summary>
/// <param name="Content">The exact text of the token.</param>
/// <param name="SingleWord">Match only when not glued to word characters on either side.</param>
/// <param name="LStrip">Swallow the whitespace on its left.</param>
/// <param name="RStrip">Swallow the whitespace on its right.</param>
/// <param name="Normalized">Match against the normalized text (true) or the raw text (false).</param>
/// <param name="Special">A special token: skipped by <c>Decode(skipSpecialTokens: true)</c>.</param>
public sealed record AddedToken(string Content, bool SingleWord = false, bool LStrip = false, bool RStrip = false,
    bool Normalized = true, bool Special = false)
{
    /// <summary>A special token as transformers adds them: not normalized.</summary>
    public static AddedToken SpecialToken(string content) => new(content, Normalized: false, Special: true);

    public override string ToString() => Content;
}
