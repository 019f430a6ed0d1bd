// The Hugging Face course's "behind the pipeline" walk-through, in C#:
// tokenizer → model → logits → softmax → argmax → id2label, then the loss when labels are given.
//
//   dotnet run --project samples/ManualClassification -c Release -- [MODEL_FOLDER]
//
// MODEL_FOLDER is any sequence-classification model saved by transformers' save_pretrained
// (config.json, model.safetensors, tokenizer files); it defaults to the tiny DistilBERT test fixture,
// whose weights are random, so its predictions mean nothing, but every step runs as with a real model.

using Sharpformers.Models;
using Sharpformers.Tensors;
using Sharpformers.Tokenizers;

string checkpoint = args.Length > 0 ? args[0] : Path.Combine("tests", "fixtures", "models", "tiny-distilbert");
if (!Directory.Exists(checkpoint))
{
    Console.Error.WriteLine($"error: model folder '{checkpoint}' not found; run from the repository root or pass a model folder.");
    return 1;
}

// 1. Preprocessing with a tokenizer: text → input ids, padded and truncated to a rectangular batch.
var tokenizer = AutoTokenizer.FromPretrained(checkpoint);
string[] rawInputs =
[
    "I've been waiting for a HuggingFace course my whole life.",
    "I hate this so much!",
];
var inputs = tokenizer.Call(rawInputs, padding: true, truncation: true);
Console.WriteLine("input_ids:");
foreach (var row in inputs.InputIds) Console.WriteLine($"  [{string.Join(", ", row)}]");
Console.WriteLine("attention_mask:");
foreach (var row in inputs.AttentionMask) Console.WriteLine($"  [{string.Join(", ", row)}]");

// 2. Going through the model: model(**inputs) → logits of shape (batch, num_labels).
using var model = AutoModelForSequenceClassification.FromPretrained(checkpoint);
var outputs = model.Forward(inputs);
Console.WriteLine($"\nlogits shape: {TensorShape.Format(outputs.Logits.Shape.ToArray())}");
Console.WriteLine(outputs.Logits);

// 3. Postprocessing: softmax turns logits into probabilities; argmax picks the label.
var predictions = outputs.Logits.Softmax(dim: -1);
Console.WriteLine($"\nprobabilities:\n{predictions}");
Console.WriteLine($"id2label: {{{string.Join(", ", model.Config.Id2Label.OrderBy(p => p.Key).Select(p => $"{p.Key}: '{p.Value}'"))}}}");
var best = predictions.ArgMax(dim: -1);
for (int i = 0; i < rawInputs.Length; i++)
{
    int id = best.At(i);
    Console.WriteLine($"  {model.Config.Id2Label[id],-10} {predictions.At(i, id):F4}  {rawInputs[i]}");
}

// 4. With labels, the model also returns the loss (cross-entropy here: integer labels, several classes).
var labels = IntTensor.FromArray([1, 1]);
var withLoss = model.Forward(inputs, labels: labels);
Console.WriteLine($"\nloss with labels [1, 1] ({model.Config.ProblemType}): {withLoss.Loss:F4}");
return 0;
