using System.Runtime.InteropServices;
using Sharpformers.Nn.Optim;
using Sharpformers.Training.Data;
using Sharpformers.Utils;

namespace Sharpformers.Training.Tests.Trainer;

/// <summary>
/// A small but real trainable model for exercising the Trainer without the BERT engine: mean of
/// token embeddings → dense + tanh → dropout → classifier, cross-entropy loss, exact backward.
/// Parameter names follow HF's conventions so decay grouping and flop counting apply.
/// </summary>
internal sealed class ToyClassifier : ITrainableModel
{
    private readonly int vocab;
    private readonly int hidden;
    private readonly TrainableParameter embeddings;
    private readonly TrainableParameter denseWeight;
    private readonly TrainableParameter denseBias;
    private readonly TrainableParameter norm;
    private readonly TrainableParameter classifierWeight;
    private readonly TrainableParameter classifierBias;
    private Cache? cache;

    public ToyClassifier(int vocab, int hidden, int numLabels, ulong seed, float dropout = 0.1f)
    {
        this.vocab = vocab;
        this.hidden = hidden;
        NumLabels = numLabels;
        Dropout = dropout;
        var random = new SeededRandom(seed);
        embeddings = Make("embeddings.word_embeddings.weight", vocab * hidden, random, 0.5f);
        denseWeight = Make("pre_classifier.weight", hidden * hidden, random, 0.3f);
        denseBias = Make("pre_classifier.bias", hidden, random, 0f);
        norm = new TrainableParameter("norm.LayerNorm.weight", Enumerable.Repeat(1f, hidden).ToArray());
        classifierWeight = Make("classifier.weight", numLabels * hidden, random, 0.3f);
        classifierBias = Make("classifier.bias", numLabels, random, 0f);
        Parameters = [embeddings, denseWeight, denseBias, norm, classifierWeight, classifierBias];
    }

    public float Dropout { get; }

    /// <summary>When set, Forward returns NaN as the loss of this training call (1-based).</summary>
    public int? NaNAtTrainingCall { get; set; }

    public int TrainingCalls { get; private set; }

    public IReadOnlyList<ITrainableParameter> Parameters { get; }

    public int NumLabels { get; }

    private static TrainableParameter Make(string name, int size, SeededRandom random, float std)
    {
        var values = new float[size];
        if (std > 0) random.FillNormal(values, 0, std);
        return new TrainableParameter(name, values);
    }

    public ModelOutput Forward(CollatedBatch batch, bool training, SeededRandom? dropoutRandom)
    {
        int b = batch.BatchSize;
        int t = batch.SequenceLength;
        var pooled = new float[b * hidden];
        var counts = new int[b];
        for (int i = 0; i < b; i++)
        {
            for (int j = 0; j < t; j++)
            {
                if (batch.AttentionMask[i * t + j] == 0) continue;
                int id = batch.InputIds[i * t + j] % vocab;
                counts[i]++;
                for (int h = 0; h < hidden; h++) pooled[i * hidden + h] += embeddings.Value[id * hidden + h];
            }
            for (int h = 0; h < hidden; h++) pooled[i * hidden + h] /= Math.Max(1, counts[i]);
        }
        var activated = new float[b * hidden];
        var mask = new float[b * hidden];
        for (int i = 0; i < b; i++)
        {
            for (int o = 0; o < hidden; o++)
            {
                float sum = denseBias.Value[o];
                for (int h = 0; h < hidden; h++) sum += denseWeight.Value[o * hidden + h] * pooled[i * hidden + h];
                activated[i * hidden + o] = MathF.Tanh(sum) * norm.Value[o];
                mask[i * hidden + o] = training && dropoutRandom is not null ? (dropoutRandom.NextSingle() >= Dropout ? 1f / (1f - Dropout) : 0f) : 1f;
            }
        }
        var logits = new float[b * NumLabels];
        for (int i = 0; i < b; i++)
        {
            for (int c = 0; c < NumLabels; c++)
            {
                float sum = classifierBias.Value[c];
                for (int h = 0; h < hidden; h++) sum += classifierWeight.Value[c * hidden + h] * activated[i * hidden + h] * mask[i * hidden + h];
                logits[i * NumLabels + c] = sum;
            }
        }
        float? loss = null;
        if (batch.Labels is { } labels)
        {
            double total = 0;
            for (int i = 0; i < b; i++)
            {
                var row = logits.AsSpan(i * NumLabels, NumLabels);
                float max = row.ToArray().Max();
                double z = 0;
                foreach (float v in row) z += Math.Exp(v - max);
                total += -(row[labels[i]] - max - Math.Log(z));
            }
            loss = (float)(total / b);
        }
        if (training)
        {
            TrainingCalls++;
            if (NaNAtTrainingCall == TrainingCalls) loss = float.NaN;
            cache = new Cache(batch, pooled, counts, activated, mask, logits);
        }
        return new ModelOutput(loss, logits);
    }

    public void Backward(float lossScale)
    {
        var c = cache ?? throw new InvalidOperationException("Backward without a training forward.");
        var batch = c.Batch;
        int b = batch.BatchSize;
        int t = batch.SequenceLength;
        var labels = batch.Labels!;
        for (int i = 0; i < b; i++)
        {
            var row = c.Logits.AsSpan(i * NumLabels, NumLabels);
            float max = row.ToArray().Max();
            double z = 0;
            foreach (float v in row) z += Math.Exp(v - max);
            var dLogits = new float[NumLabels];
            for (int k = 0; k < NumLabels; k++)
            {
                dLogits[k] = (float)((Math.Exp(row[k] - max) / z - (k == labels[i] ? 1 : 0)) / b * lossScale);
                classifierBias.Gradient[k] += dLogits[k];
            }
            var dActivated = new float[hidden];
            for (int h = 0; h < hidden; h++)
            {
                float dropped = c.Activated[i * hidden + h] * c.Mask[i * hidden + h];
                for (int k = 0; k < NumLabels; k++)
                {
                    classifierWeight.Gradient[k * hidden + h] += dLogits[k] * dropped;
                    dActivated[h] += dLogits[k] * classifierWeight.Value[k * hidden + h] * c.Mask[i * hidden + h];
                }
            }
            var dPooled = new float[hidden];
            for (int o = 0; o < hidden; o++)
            {
                float tanh = norm.Value[o] == 0 ? 0 : c.Activated[i * hidden + o] / norm.Value[o];
                norm.Gradient[o] += dActivated[o] * tanh;
                float dPre = dActivated[o] * norm.Value[o] * (1 - tanh * tanh);
                denseBias.Gradient[o] += dPre;
                for (int h = 0; h < hidden; h++)
                {
                    denseWeight.Gradient[o * hidden + h] += dPre * c.Pooled[i * hidden + h];
                    dPooled[h] += dPre * denseWeight.Value[o * hidden + h];
                }
            }
            for (int j = 0; j < t; j++)
            {
                if (batch.AttentionMask[i * t + j] == 0) continue;
                int id = batch.InputIds[i * t + j] % vocab;
                for (int h = 0; h < hidden; h++) embeddings.Gradient[id * hidden + h] += dPooled[h] / Math.Max(1, c.Counts[i]);
            }
        }
    }

    public void SavePretrained(string directory)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "config.json"), $"{{\"model_type\": \"toy\", \"num_labels\": {NumLabels}}}\n");
        AtomicFile.Write(Path.Combine(directory, "toy_model.bin"), stream =>
        {
            foreach (var p in Parameters) stream.Write(MemoryMarshal.AsBytes(p.Value));
        });
    }

    public void LoadWeights(string directory)
    {
        byte[] bytes = File.ReadAllBytes(Path.Combine(directory, "toy_model.bin"));
        var floats = MemoryMarshal.Cast<byte, float>(bytes);
        int offset = 0;
        foreach (var p in Parameters)
        {
            floats.Slice(offset, p.Value.Length).CopyTo(p.Value);
            offset += p.Value.Length;
        }
    }

    public float[] Snapshot() => Parameters.SelectMany(p => p.Value.ToArray()).ToArray();

    private sealed record Cache(CollatedBatch Batch, float[] Pooled, int[] Counts, float[] Activated, float[] Mask, float[] Logits);

    /// <summary>A tokenized toy dataset: label 1 examples use tokens from the upper half of the vocabulary, mostly.</summary>
    public static Dataset MakeData(int rows, int vocab, ulong seed)
    {
        var random = new SeededRandom(seed);
        var ids = new int[rows][];
        var labels = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            labels[r] = random.NextInt(2);
            int length = 3 + random.NextInt(8);
            ids[r] = Enumerable.Range(0, length).Select(_ =>
            {
                bool fromOwnHalf = random.NextDouble() < 0.8;
                int half = fromOwnHalf ? labels[r] : 1 - labels[r];
                return 1 + half * (vocab / 2) + random.NextInt(vocab / 2 - 1);
            }).ToArray();
        }
        return Dataset.FromDict(
            new Dictionary<string, System.Collections.IList> { ["input_ids"] = ids, ["label"] = labels },
            new Dictionary<string, FeatureType> { ["label"] = new ClassLabel(["neg", "pos"]) });
    }
}
