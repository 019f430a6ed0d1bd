using System.Globalization;
using Sharpformers.Nn.Optim;
using Sharpformers.Training.Optimization;

namespace Sharpformers.Training.Tests.Optimization;

/// <summary>Expected values were computed with HF's formulas in Python (repr of the doubles).</summary>
public sealed class ScheduleTests
{
    private static AdamW Optimizer(double lr = 1e-3) => new([new TrainableParameter("w", new float[1])], learningRate: lr);

    private static void Check(LearningRateScheduler scheduler, params (int Step, string Python)[] expected)
    {
        foreach (var (step, python) in expected)
        {
            Assert.Equal(double.Parse(python, CultureInfo.InvariantCulture), scheduler.Lambda(step));
        }
    }

    [Fact]
    public void LinearWithWarmup()
    {
        var scheduler = Schedules.GetScheduler(SchedulerType.Linear, Optimizer(), numWarmupSteps: 10, numTrainingSteps: 64);
        Check(scheduler, (0, "0.0"), (1, "0.1"), (5, "0.5"), (10, "1.0"), (11, "0.9814814814814815"), (37, "0.5"), (63, "0.018518518518518517"), (64, "0.0"), (70, "0.0"));
    }

    [Fact]
    public void CosineFamilies()
    {
        Check(Schedules.GetScheduler(SchedulerType.Cosine, Optimizer(), 5, 50),
            (0, "0.0"), (3, "0.6"), (5, "1.0"), (20, "0.75"), (49, "0.0012179748700879012"), (50, "0"), (60, "0.116977778440511"));
        Check(Schedules.GetScheduler(SchedulerType.CosineWithMinLr, Optimizer(), 5, 50, new Dictionary<string, double> { ["min_lr_rate"] = 0.1 }),
            (0, "0.0"), (5, "1.0"), (20, "0.775"), (50, "0.1"));
        Check(Schedules.GetScheduler(SchedulerType.CosineWithRestarts, Optimizer(), 2, 22, new Dictionary<string, double> { ["num_cycles"] = 3 }),
            (0, "0.0"), (1, "0.5"), (2, "1.0"), (5, "0.5782172325201156"), (8, "0.02447174185242329"), (9, "0.9938441702975689"),
            (15, "0.006155829702431115"), (21, "0.054496737905816384"), (22, "0.0"));
    }

    [Fact]
    public void PolynomialConstantAndInverseSqrt()
    {
        Check(Schedules.GetScheduler(SchedulerType.Polynomial, Optimizer(), 3, 20, new Dictionary<string, double> { ["power"] = 2.0 }),
            (0, "0.0"), (2, "0.6666666666666666"), (3, "1.0"), (10, "0.3460861591695502"), (19, "0.003559861591695503"), (20, "9.999999999999999e-05"), (25, "9.999999999999999e-05"));
        Check(Schedules.GetScheduler(SchedulerType.ConstantWithWarmup, Optimizer(), 4), (0, "0.0"), (2, "0.5"), (4, "1.0"), (9, "1.0"));
        Check(Schedules.GetScheduler(SchedulerType.Constant, Optimizer()), (0, "1.0"), (1000, "1.0"));
        Check(Schedules.GetScheduler(SchedulerType.InverseSqrt, Optimizer(), 4), (0, "0.0"), (2, "0.5"), (4, "1.0"), (9, "0.6666666666666666"), (100, "0.2"));
    }

    [Fact]
    public void SchedulerSetsGroupLearningRatesLikeLambdaLR()
    {
        var optimizer = new AdamW([new ParameterGroup([new TrainableParameter("a", new float[1])]), new ParameterGroup([new TrainableParameter("b", new float[1])], learningRate: 0.5)], learningRate: 1e-3);
        var scheduler = Schedules.GetScheduler(SchedulerType.Linear, optimizer, numWarmupSteps: 2, numTrainingSteps: 4);
        Assert.Equal([0.0, 0.0], scheduler.LastLearningRates);
        scheduler.Step();
        Assert.Equal([1e-3 * 0.5, 0.5 * 0.5], scheduler.LastLearningRates);
        scheduler.Step();
        scheduler.Step();
        Assert.Equal(3, scheduler.LastEpoch);
        Assert.Equal([1e-3 * 0.5, 0.25], scheduler.LastLearningRates);
    }

    [Fact]
    public void ArgumentsAreCheckedWithHuggingFaceMessages()
    {
        var e = Assert.Throws<ArgumentException>(() => Schedules.GetScheduler(SchedulerType.Linear, Optimizer(), numWarmupSteps: 1));
        Assert.StartsWith("linear requires numTrainingSteps", e.Message);
        Assert.Throws<ArgumentException>(() => Schedules.GetScheduler(SchedulerType.Cosine, Optimizer(), numTrainingSteps: 3));
        var poly = Assert.Throws<ArgumentException>(() => Schedules.GetScheduler(SchedulerType.Polynomial, Optimizer(1e-8), 0, 10));
        Assert.Equal("lr_end (1e-07) must be smaller than initial lr (1e-08)", poly.Message);
        var kwargs = Assert.Throws<ArgumentException>(() => Schedules.GetScheduler(SchedulerType.Linear, Optimizer(), 0, 10, new Dictionary<string, double> { ["num_cycles"] = 2 }));
        Assert.Contains("'num_cycles' is not a parameter of the linear schedule", kwargs.Message);
        Assert.Throws<ArgumentException>(() => Schedules.GetScheduler(SchedulerType.CosineWithMinLr, Optimizer(), 0, 10));
        Assert.Equal(SchedulerType.CosineWithRestarts, Schedules.Parse("cosine_with_restarts"));
        Assert.Equal(SchedulerType.ConstantWithWarmup, Schedules.Parse("constant-with-warmup"));
        Assert.Throws<NotSupportedException>(() => Schedules.Parse("reduce_lr_on_plateau"));
        Assert.Contains("linear, cosine", Assert.Throws<ArgumentException>(() => Schedules.Parse("exponential")).Message);
    }

    [Fact]
    public void SchedulerStateRoundTripsAndRejectsAnotherSchedule()
    {
        using var dir = new TempDirectory();
        var optimizer = Optimizer();
        var scheduler = Schedules.GetScheduler(SchedulerType.Linear, optimizer, 1, 10);
        for (int i = 0; i < 4; i++) scheduler.Step();
        scheduler.Save(dir.Path);
        var restoredOptimizer = Optimizer();
        var restored = Schedules.GetScheduler(SchedulerType.Linear, restoredOptimizer, 1, 10);
        restored.Load(dir.Path);
        Assert.Equal(4, restored.LastEpoch);
        Assert.Equal(optimizer.ParamGroups[0].LearningRate, restoredOptimizer.ParamGroups[0].LearningRate);
        var cosine = Schedules.GetScheduler(SchedulerType.Cosine, Optimizer(), 1, 10);
        var e = Assert.Throws<InvalidDataException>(() => cosine.Load(dir.Path));
        Assert.Contains("saved for a 'linear' schedule", e.Message);
    }
}
