namespace Sharpformers.TestSupport;

/// <summary>
/// A fact in the dataset tier: it runs only when SHARPFORMERS_DATASET_TESTS=1 and the shared data
/// folder exists (as .ci/run arranges); otherwise it is reported as skipped, never as passed.
/// </summary>
public sealed class DatasetFactAttribute : Xunit.FactAttribute
{
    public DatasetFactAttribute()
    {
        if (!Fixtures.DatasetTierEnabled)
        {
            Skip = "dataset tier: set SHARPFORMERS_DATASET_TESTS=1 with ../shared beside the clone";
        }
    }
}
