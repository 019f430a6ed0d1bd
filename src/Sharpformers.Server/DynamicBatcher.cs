using System.Diagnostics;

namespace Sharpformers.Server;

/// <summary>What the batcher has done so far: observable proof that concurrent requests share forward passes.</summary>
/// <param name="Batches">Forward passes run.</param>
/// <param name="Inputs">Inputs classified in them.</param>
/// <param name="LargestBatch">The most inputs one forward pass held.</param>
/// <param name="QueuedRequests">Requests waiting for the model now.</param>
public sealed record BatchStatistics(long Batches, long Inputs, int LargestBatch, int QueuedRequests)
{
    /// <summary>Mean inputs per forward pass.</summary>
    public double MeanBatchSize => Batches == 0 ? 0 : (double)Inputs / Batches;
}

/// <summary>
/// Dynamic batching: requests queue up; one thread takes inputs from the head of the queue (a request's
/// inputs may span batches) up to the batch size, waits at most the wait window for more when the batch
/// is not full, runs one forward pass at a time, and routes each row of logits back to its request.
/// The queue is bounded (a full queue is a 503); a request whose client went away is skipped or its
/// rows dropped, never failing the others; a batch the model rejects is retried request by request so
/// only the request at fault fails.
/// </summary>
internal sealed class DynamicBatcher
{
    private readonly IInferenceBackend backend;
    private readonly int maxBatchSize;
    private readonly TimeSpan maxWait;
    private readonly int maxQueue;
    private readonly ServerMetrics metrics;
    private readonly object gate = new();
    private readonly Queue<PendingRequest> queue = new();
    private readonly Thread thread;
    private readonly TaskCompletionSource stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private PendingRequest? current; // the request whose inputs are being taken, when it spans batches
    private int currentOffset;
    private bool stopping;
    private long batches;
    private long inputs;
    private int largestBatch;

    public DynamicBatcher(IInferenceBackend backend, int maxBatchSize, TimeSpan maxWait, int maxQueue, ServerMetrics metrics)
    {
        this.backend = backend;
        // Without a padding token only inputs of one length could share a batch; one input per batch is the safe rule.
        this.maxBatchSize = backend.CanBatch ? maxBatchSize : 1;
        this.maxWait = maxWait;
        this.maxQueue = maxQueue;
        this.metrics = metrics;
        // A thread of its own: the forward pass is long CPU work that should not hold a thread-pool thread
        // the HTTP side needs, and Monitor waits give a precise wait window without timers.
        thread = new Thread(Run) { IsBackground = true, Name = "sharpformers-batcher" };
        thread.Start();
    }

    public BatchStatistics Statistics
    {
        get
        {
            lock (gate) return new BatchStatistics(batches, inputs, largestBatch, queue.Count + (current is null ? 0 : 1));
        }
    }

    /// <summary>
    /// Queues a request's inputs and returns their logits, in order, once every one has been through the model.
    /// Throws a 503 <see cref="ApiException"/> when the queue is full or the batcher is stopping. Cancelling
    /// <paramref name="cancellationToken"/> (the client went away) abandons the request without touching others.
    /// </summary>
    public Task<float[][]> SubmitAsync(IReadOnlyList<PreparedInput> prepared, CancellationToken cancellationToken)
    {
        var request = new PendingRequest(prepared);
        lock (gate)
        {
            if (stopping) throw new ApiException(503, ErrorTypes.Unavailable, "the server is shutting down", retryAfterSeconds: 1);
            if (queue.Count >= maxQueue)
            {
                throw new ApiException(503, ErrorTypes.Overloaded,
                    $"the server is overloaded: {maxQueue} requests are already waiting for the model; retry shortly", retryAfterSeconds: 1);
            }
            queue.Enqueue(request);
            metrics.QueueDepth = queue.Count;
            Monitor.Pulse(gate);
        }
        if (cancellationToken.CanBeCanceled)
        {
            request.CancellationRegistration = cancellationToken.Register(static r => ((PendingRequest)r!).Cancel(), request);
        }
        return request.Task;
    }

    /// <summary>Stops taking requests, finishes every queued one, and completes when the thread has ended.</summary>
    public Task StopAsync()
    {
        lock (gate)
        {
            stopping = true;
            Monitor.PulseAll(gate);
        }
        return stopped.Task;
    }

    private void Run()
    {
        var batch = new List<(PendingRequest Request, int Index)>(maxBatchSize);
        try
        {
            while (true)
            {
                lock (gate)
                {
                    while (!HasWork() && !stopping) Monitor.Wait(gate);
                    if (!HasWork()) break; // stopping and drained
                    Take(batch);
                    if (batch.Count > 0 && batch.Count < maxBatchSize && maxWait > TimeSpan.Zero && !stopping)
                    {
                        long deadline = Stopwatch.GetTimestamp() + (long)(maxWait.TotalSeconds * Stopwatch.Frequency);
                        while (batch.Count < maxBatchSize && !stopping)
                        {
                            long remaining = deadline - Stopwatch.GetTimestamp();
                            if (remaining <= 0) break;
                            // Whole milliseconds, rounded up: a wait rounded down to 0 would spin.
                            Monitor.Wait(gate, (int)Math.Ceiling(remaining * 1000.0 / Stopwatch.Frequency));
                            Take(batch);
                        }
                    }
                    metrics.QueueDepth = queue.Count;
                }
                try
                {
                    if (batch.Count > 0) Execute(batch);
                }
                catch (Exception e)
                {
                    // Never let the one batcher thread die: that would leave every later request waiting forever.
                    foreach (var (request, _) in batch) request.Fail(e);
                }
                batch.Clear();
            }
        }
        finally
        {
            stopped.TrySetResult();
        }
    }

    private bool HasWork() => current is not null || queue.Count > 0;

    /// <summary>Moves inputs from the queue into the batch until it is full or the queue is empty (caller holds the gate).</summary>
    private void Take(List<(PendingRequest Request, int Index)> batch)
    {
        while (batch.Count < maxBatchSize)
        {
            if (current is { IsFinished: true }) current = null; // abandoned or failed part-way: skip the rest of it
            if (current is null)
            {
                if (!queue.TryDequeue(out var next)) return;
                if (next.IsFinished) continue; // its client went away while it waited
                current = next;
                currentOffset = 0;
            }
            int take = Math.Min(maxBatchSize - batch.Count, current.Inputs.Count - currentOffset);
            for (int i = 0; i < take; i++) batch.Add((current, currentOffset + i));
            currentOffset += take;
            if (currentOffset == current.Inputs.Count) current = null;
        }
    }

    private void Execute(List<(PendingRequest Request, int Index)> batch)
    {
        var items = new PreparedInput[batch.Count];
        for (int i = 0; i < batch.Count; i++) items[i] = batch[i].Request.Inputs[batch[i].Index];
        long started = Stopwatch.GetTimestamp();
        try
        {
            var logits = backend.Forward(items);
            for (int i = 0; i < batch.Count; i++) batch[i].Request.Deliver(batch[i].Index, logits[i]);
        }
        catch (Exception e) when (batch.Select(b => b.Request).Distinct().Count() > 1)
        {
            // One request's input broke the batch: run each request's part on its own so the others still get answers.
            foreach (var group in batch.GroupBy(b => b.Request))
            {
                try
                {
                    var logits = backend.Forward(group.Select(b => b.Request.Inputs[b.Index]).ToArray());
                    int row = 0;
                    foreach (var (request, index) in group) request.Deliver(index, logits[row++]);
                }
                catch (Exception inner)
                {
                    group.Key.Fail(inner);
                }
            }
            metrics.RecordBackendFailure(e);
        }
        catch (Exception e)
        {
            batch[0].Request.Fail(e);
            metrics.RecordBackendFailure(e);
        }
        double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        lock (gate)
        {
            batches++;
            inputs += batch.Count;
            largestBatch = Math.Max(largestBatch, batch.Count);
        }
        metrics.RecordBatch(batch.Count, seconds);
    }

    /// <summary>A request in the queue: its inputs, the rows computed so far and the task its handler awaits.</summary>
    private sealed class PendingRequest(IReadOnlyList<PreparedInput> inputs)
    {
        private readonly TaskCompletionSource<float[][]> completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly float[][] rows = new float[inputs.Count][];
        private int remaining = inputs.Count;

        public IReadOnlyList<PreparedInput> Inputs { get; } = inputs;

        public Task<float[][]> Task => completion.Task;

        public CancellationTokenRegistration CancellationRegistration { get; set; }

        /// <summary>Answered, failed or abandoned: its remaining inputs need no forward pass.</summary>
        public bool IsFinished => completion.Task.IsCompleted;

        public void Deliver(int index, float[] row)
        {
            rows[index] = row;
            if (Interlocked.Decrement(ref remaining) == 0 && completion.TrySetResult(rows)) CancellationRegistration.Dispose();
        }

        public void Fail(Exception e)
        {
            var error = e as ApiException ?? new ApiException(500, ErrorTypes.Backend, $"the model failed on this request: {e.Message}");
            if (completion.TrySetException(error)) CancellationRegistration.Dispose();
        }

        public void Cancel() => completion.TrySetCanceled();
    }
}
