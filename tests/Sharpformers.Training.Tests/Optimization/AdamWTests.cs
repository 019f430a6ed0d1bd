using Xunit.Abstractions;
using System.Text.Json;
using Sharpformers.Nn.Optim;
using Sharpformers.TestSupport;
using Sharpformers.Training.Optimization;
using Sharpformers.Utils;

namespace Sharpformers.Training.Tests.Optimization;

public sealed class AdamWTests(ITestOutputHelper output)
{
    private static float[] RandomFloats(SeededRandom random, int n, float scale)
    {
        var values = new float[n];
        random.FillNormal(values, 0, scale);
        return values;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(33)]
    [InlineData(1027)]
    public void VectorKernelMatchesNaiveReferenceBitForBit(int n)
    {
        var random = new SeededRandom((ulong)n + 1);
        var paramFast = RandomFloats(random, n, 1);
        var paramRef = (float[])paramFast.Clone();
        var mFast = new float[n];
        var vFast = new float[n];
        var mRef = new float[n];
        var vRef = new float[n];
        for (int step = 1; step <= 4; step++)
        {
            var grad = RandomFloats(random, n, step == 3 ? 1e-9f : 0.5f);
            var c = AdamWCoefficients.For(1e-3 * step, 0.9, 0.999, 1e-8, 0.01, step);
            AdamWKernels.Step(paramFast, grad, mFast, vFast, c);
            AdamWReference.Step(paramRef, grad, mRef, vRef, c);
        }
        Assert.Equal(paramRef, paramFast);
        Assert.Equal(mRef, mFast);
        Assert.Equal(vRef, vFast);
        Assert.Throws<ArgumentException>(() => AdamWKernels.Step(new float[3], new float[2], new float[3], new float[3], AdamWCoefficients.For(1e-3, 0.9, 0.999, 1e-8, 0, 1)));
    }

    [Fact]
    public void FirstStepMovesEachWeightByAboutTheLearningRate()
    {
        // With m = 0.1 g and v = 0.001 g², the bias-corrected update is lr·g/(|g| + eps) ≈ ±lr.
        var p = new TrainableParameter("w", [1f, -2f, 0.5f], [0.3f, -4f, 0f]);
        var optimizer = new AdamW([p], learningRate: 1e-3, weightDecay: 0.0);
        optimizer.Step();
        Assert.Equal(1f - 1e-3f, p.Value[0], 1e-7f);
        Assert.Equal(-2f + 1e-3f, p.Value[1], 1e-7f);
        Assert.Equal(0.5f, p.Value[2]);
        Assert.Equal(1, optimizer.State["w"].Step);
        Assert.Equal(0.1f * 0.3f, optimizer.State["w"].ExpAvg[0], 1e-9f);
    }

    [Theory]
    [InlineData("tiny-bert")]
    [InlineData("tiny-distilbert")]
    public void OneStepMatchesTorchAdamWGolden(string model)
    {
        var golden = Goldens.Load(model).GetProperty("training");
        var adamw = golden.GetProperty("adamw");
        Assert.Equal("one group with all parameters (no decay exclusions)", adamw.GetProperty("param_groups").GetString());
        var initial = SafetensorsTestReader.ReadFloat32(Path.Combine(Fixtures.Model(model), "model.safetensors"));
        var names = golden.GetProperty("parameter_order").Strings();
        var nearZero = golden.GetProperty("near_zero_gradient_parameters").GetProperty("names").Strings();
        var parameters = names.Select(n => new TrainableParameter(n, (float[])initial[n].Clone(), golden.GetProperty("gradients").GetProperty(n).Floats())).ToList();
        var betas = adamw.GetProperty("betas").Floats();
        var optimizer = new AdamW(parameters,
            learningRate: adamw.GetProperty("lr").GetDouble(),
            beta1: adamw.GetProperty("betas")[0].GetDouble(),
            beta2: adamw.GetProperty("betas")[1].GetDouble(),
            eps: adamw.GetProperty("eps").GetDouble(),
            weightDecay: adamw.GetProperty("weight_decay").GetDouble());
        optimizer.Step();
        double worst = 0;
        foreach (var parameter in parameters)
        {
            var expected = golden.GetProperty("params_after_1_step").GetProperty(parameter.Name).Floats();
            // The goldens' own note: updates of mathematically-zero gradients are float noise, compare at ~lr.
            double tolerance = nearZero.Contains(parameter.Name) ? 1e-3 : 1e-6;
            Approx.Equal(expected, parameter.Value, tolerance, what: parameter.Name);
            if (!nearZero.Contains(parameter.Name)) worst = Math.Max(worst, Approx.MaxAbsDiff(expected, parameter.Value));
        }
        output.WriteLine($"{model}: max |diff| after 1 step {worst:E2} (near-zero-gradient parameters excluded)");
        Assert.True(worst < 1e-6, $"max |diff| {worst:E2}");
    }

    [Theory]
    [InlineData("tiny-bert")]
    [InlineData("tiny-distilbert")]
    public void GoldenThreeStepsScheduleAndGradNorm(string model)
    {
        var golden = Goldens.Load(model).GetProperty("training");
        var threeSteps = golden.GetProperty("three_steps");
        Assert.Equal("transformers.get_linear_schedule_with_warmup(opt, num_warmup_steps=1, num_training_steps=3)", threeSteps.GetProperty("schedule").GetString());
        var names = golden.GetProperty("parameter_order").Strings();
        var parameters = names.Select(n => new TrainableParameter(n, new float[golden.GetProperty("gradients").GetProperty(n).GetArrayLength()], golden.GetProperty("gradients").GetProperty(n).Floats())).ToList();
        var optimizer = new AdamW(parameters, learningRate: 1e-3, weightDecay: 0.01);
        var scheduler = Schedules.GetScheduler(SchedulerType.Linear, optimizer, numWarmupSteps: 1, numTrainingSteps: 3);
        var steps = threeSteps.GetProperty("steps").EnumerateArray().ToList();
        Assert.Equal(3, steps.Count);
        foreach (var step in steps)
        {
            Assert.Equal(step.GetProperty("lr_used").GetDouble(), optimizer.ParamGroups[0].LearningRate, 15);
            scheduler.Step();
        }
        // Steps 0 and 1 see the same parameters (lr 0 at step 0), so their gradients are the goldens' gradients.
        float norm = GradientClipping.GlobalNorm(parameters);
        output.WriteLine($"{model}: grad norm {norm:R}, golden {steps[0].GetProperty("grad_norm_before_clip").GetDouble():R}");
        Assert.Equal((float)steps[0].GetProperty("grad_norm_before_clip").GetDouble(), norm, (float)(2e-7 * norm));
        float clipped = GradientClipping.ClipGradNorm(parameters, 1.0);
        Assert.Equal(norm, clipped);
        Assert.Equal(1.0f, GradientClipping.GlobalNorm(parameters), 1e-6f);
    }

    [Fact]
    public void ClipCoefficientFollowsTorch()
    {
        Assert.Equal(1f, GradientClipping.ClipCoefficient(0.5f, 1.0));
        Assert.Equal(1f / (4f + 1e-6f), GradientClipping.ClipCoefficient(4f, 1.0));
        Assert.True(float.IsNaN(GradientClipping.ClipCoefficient(float.NaN, 1.0)));
        var p = new TrainableParameter("w", new float[2], [3f, 4f]);
        float total = GradientClipping.ClipGradNorm([p], 10.0);
        Assert.Equal(5f, total);
        Assert.Equal([3f, 4f], p.Gradient.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ClipGradNorm([p], 0));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(16)]
    [InlineData(37)]
    [InlineData(4099)]
    public void GradientKernelsMatchReferences(int n)
    {
        var random = new SeededRandom(99);
        var values = RandomFloats(random, n, 3);
        Assert.Equal(GradientKernels.SumOfSquaresReference(values), GradientKernels.SumOfSquares(values), 1e-12 * Math.Max(1, GradientKernels.SumOfSquaresReference(values)));
        var fast = (float[])values.Clone();
        var naive = (float[])values.Clone();
        GradientKernels.Scale(fast, 0.37f);
        GradientKernels.ScaleReference(naive, 0.37f);
        Assert.Equal(naive, fast);
        Assert.True(GradientKernels.AllFinite(values));
        if (n > 0)
        {
            values[n / 2] = float.NaN;
            Assert.False(GradientKernels.AllFinite(values));
        }
    }

    [Fact]
    public void GroupsKeepTheirOwnWeightDecay()
    {
        var weight = new TrainableParameter("dense.weight", [1f], [0f]);
        var bias = new TrainableParameter("dense.bias", [1f], [0f]);
        var optimizer = new AdamW([new ParameterGroup([weight]), new ParameterGroup([bias], weightDecay: 0.0)], learningRate: 0.1, weightDecay: 0.5);
        optimizer.Step();
        // Zero gradient: only the decoupled decay moves the weight, p *= 1 - lr·wd.
        Assert.Equal(0.95f, weight.Value[0]);
        Assert.Equal(1f, bias.Value[0]);
        Assert.Throws<ArgumentException>(() => new AdamW([new ParameterGroup([weight]), new ParameterGroup([weight])]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdamW([weight], learningRate: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdamW([weight], beta2: 1.0));
    }

    [Fact]
    public void SavedStateResumesIdentically()
    {
        using var dir = new TempDirectory();
        var random = new SeededRandom(5);
        var gradients = Enumerable.Range(0, 4).Select(_ => RandomFloats(random, 70_000, 0.1f)).ToArray();
        float[] start = RandomFloats(random, 70_000, 1);

        var straight = new TrainableParameter("w", (float[])start.Clone());
        var optimizer = new AdamW([straight], learningRate: 1e-2);
        var scheduler = Schedules.GetScheduler(SchedulerType.Linear, optimizer, 1, 4);
        for (int s = 0; s < 4; s++)
        {
            gradients[s].CopyTo(straight.Gradient);
            optimizer.Step();
            scheduler.Step();
        }

        var first = new TrainableParameter("w", (float[])start.Clone());
        var firstOptimizer = new AdamW([first], learningRate: 1e-2);
        var firstScheduler = Schedules.GetScheduler(SchedulerType.Linear, firstOptimizer, 1, 4);
        for (int s = 0; s < 2; s++)
        {
            gradients[s].CopyTo(first.Gradient);
            firstOptimizer.Step();
            firstScheduler.Step();
        }
        firstOptimizer.Save(dir.Path);
        firstScheduler.Save(dir.Path);

        var resumed = new TrainableParameter("w", first.Value.ToArray());
        var resumedOptimizer = new AdamW([resumed], learningRate: 1e-2);
        var resumedScheduler = Schedules.GetScheduler(SchedulerType.Linear, resumedOptimizer, 1, 4);
        resumedOptimizer.Load(dir.Path);
        resumedScheduler.Load(dir.Path);
        Assert.Equal(2, resumedScheduler.LastEpoch);
        Assert.Equal(firstOptimizer.ParamGroups[0].LearningRate, resumedOptimizer.ParamGroups[0].LearningRate);
        for (int s = 2; s < 4; s++)
        {
            gradients[s].CopyTo(resumed.Gradient);
            resumedOptimizer.Step();
            resumedScheduler.Step();
        }
        Assert.Equal(straight.Value.ToArray(), resumed.Value.ToArray());
        Assert.Equal(optimizer.State["w"].ExpAvgSq, resumedOptimizer.State["w"].ExpAvgSq);

        var other = new AdamW([new TrainableParameter("v", new float[3])]);
        var e = Assert.Throws<InvalidDataException>(() => other.Load(dir.Path));
        Assert.Contains("first difference", e.Message);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.Path, AdamW.JsonFileName)));
        Assert.Equal(2, json.RootElement.GetProperty("state").GetProperty("w").GetProperty("step").GetInt32());
    }
}
