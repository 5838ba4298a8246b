// TorchVision 0.107's transforms.Normalize takes only N×C×H×W batches; PyTorch's takes one C×H×W image
// (docs/conformance.md). Run from the repository root: dotnet run examples/upstream/normalize_one_image.cs
// Outside it: replace the two lines below by #:package TorchSharp-cpu@0.107.0 and #:package TorchVision@0.107.0.
#:property UsesTorchSharp=true
#:package TorchVision
#:property PublishAot=false
using TorchSharp;
using static TorchSharp.torch;

var normalize = torchvision.transforms.Normalize([0.5, 0.5, 0.5], [0.5, 0.5, 0.5]);
using var image = full(new long[] { 3, 32, 32 }, 1.0f); // one image, as a dataset item is
try
{
    using var y = normalize.call(image);
    Console.WriteLine($"shape [{string.Join(", ", y.shape)}], first {y.view(-1)[0].item<float>()}"); // PyTorch: 1
}
catch (ArgumentException e)
{
    Console.WriteLine($"refused: {e.GetType().Name}: {e.Message}");
}
