namespace Sharpformers.Tokenizers;

/// <summary>Placeholder until the fused BERT path lands.</summary>
internal static class BertFastPath
{
    public static void TryInstall(TokenizerPipeline pipeline)
    {
    }
}
