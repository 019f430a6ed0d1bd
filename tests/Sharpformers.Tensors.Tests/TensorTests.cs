using Sharpformers.Tensors.Storage;

namespace Sharpformers.Tensors.Tests;

public sealed class TensorTests
{
    [Fact]
    public void ViewsShareStorage()
    {
        var t = Tensor.FromArray(Enumerable.Range(0, 24).Select(i => (float)i).ToArray(), 2, 3, 4);
        Assert.Equal([2, 3, 4], t.Shape);
        var row = t[1];
        Assert.Equal([3, 4], row.Shape);
        Assert.Equal(12f, row.At(0, 0));
        var flat = t.Reshape(-1, 4);
        Assert.Equal([6, 4], flat.Shape);
        var slice = flat.Slice(2, 3);
        Assert.Equal([3, 4], slice.Shape);
        Assert.Equal(8f, slice.At(0, 0));
        slice.Set(-1f, 0, 0);
        Assert.Equal(-1f, t.At(0, 2, 0)); // same memory
        Assert.Equal(23f, t.At(-1, -1, -1));
    }

    [Fact]
    public void ShapeErrorsAreClear()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Tensor(new float[5], 2, 3));
        Assert.Contains("Storage holds 5 elements but shape (2, 3) needs 6", ex.Message);
        var t = Tensor.Zeros(2, 3);
        ex = Assert.Throws<ArgumentException>(() => t.Reshape(4, -1));
        Assert.Contains("Cannot reshape (2, 3) (6 elements) to (4, -1)", ex.Message);
        Assert.Throws<IndexOutOfRangeException>(() => t[2]);
        Assert.Throws<IndexOutOfRangeException>(() => t.At(0, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Slice(1, 2));
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(-1, 2));
    }

    [Fact]
    public void SoftmaxArgMaxAndSigmoidOverTheLastDimension()
    {
        // The course's logits for its two sentences.
        var logits = Tensor.FromArray(new float[,] { { -1.5607f, 1.6123f }, { 4.1692f, -3.3464f } });
        var probs = logits.Softmax(dim: -1);
        Assert.Equal(0.040195f, probs.At(0, 0), 5);
        Assert.Equal(0.959805f, probs.At(0, 1), 5);
        Assert.Equal(0.9994557f, probs.At(1, 0), 5);
        var predictions = probs.ArgMax(dim: -1);
        Assert.Equal([2], predictions.Shape);
        Assert.Equal([1, 0], predictions.ToArray());
        Assert.Equal(0.5f, Tensor.FromArray([0f]).Sigmoid().Item());
        Assert.Throws<NotSupportedException>(() => logits.Softmax(dim: 0));
    }

    [Fact]
    public void PrintsLikeTorch()
    {
        var t = Tensor.FromArray(new float[,] { { -1.5607f, 1.6123f }, { 4.1692f, -3.3464f } });
        Assert.Equal("tensor([[-1.5607,  1.6123],\n        [ 4.1692, -3.3464]])", t.ToString());
        Assert.Equal("tensor([1, 0])", IntTensor.FromArray([1, 0]).ToString());
        Assert.Equal("tensor(2.5000)", Tensor.Scalar(2.5f).ToString());
        var big = Tensor.Zeros(2000);
        Assert.Equal("tensor([0.0000, 0.0000, 0.0000, ..., 0.0000, 0.0000, 0.0000])", big.ToString());
    }

    [Fact]
    public void IntTensorFromRaggedRowsIsRejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => IntTensor.FromRows([[1, 2], [3]]));
        Assert.Contains("Row 1 has 1 values, row 0 has 2", ex.Message);
        var ok = IntTensor.FromRows([[1, 2], [3, 4]]);
        Assert.Equal(4, ok.At(1, 1));
        Assert.Equal([3, 4], ok[1].ToArray());
    }

    [Fact]
    public void AlignedNativeStorageIsAlignedAndUsable()
    {
        using var buffer = new AlignedNativeBuffer(100);
        var t = buffer.AsTensor(10, 10);
        unsafe
        {
            using var pin = t.Memory.Pin();
            Assert.Equal(0, (long)pin.Pointer % AlignedNativeBuffer.Alignment);
        }
        t.Set(3f, 9, 9);
        Assert.Equal(3f, t.Span[99]);
        Assert.Equal(0f, t.Span[0]);
        ((IDisposable)buffer).Dispose();
        Assert.Throws<ObjectDisposedException>(() => t.Span.Length);
    }
}
