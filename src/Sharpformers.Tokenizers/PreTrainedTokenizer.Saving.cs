namespace Sharpformers.Tokenizers;

public sealed partial class PreTrainedTokenizer
{
    public IReadOnlyList<string> SavePretrained(string directory) => throw new NotImplementedException();
}
