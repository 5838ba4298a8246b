// TorchVision 0.107's datasets.CIFAR10 divides pixels by 256; PyTorch's ToTensor divides by 255 (docs/conformance.md).
// Run from the repository root: dotnet run examples/upstream/cifar10_scale.cs
// Outside it: replace the two lines below by #:package TorchSharp-cpu@0.107.0 and #:package TorchVision@0.107.0.
#:property UsesTorchSharp=true
#:package TorchVision
#:property PublishAot=false
using TorchSharp;

// One test_batch.bin of 10,000 records (TorchVision reads no other count); image 0 holds the bytes j mod 256.
string root = Path.Combine(Path.GetTempPath(), $"cifar10-scale-{Environment.ProcessId}");
string folder = Path.Combine(root, "CIFAR10", "cifar-10-batches-bin");
Directory.CreateDirectory(folder);
var bytes = new byte[10_000 * 3073];
for (int j = 0; j < 3072; j++)
    bytes[1 + j] = (byte)(j % 256);
File.WriteAllBytes(Path.Combine(folder, "test_batch.bin"), bytes);

using var set = torchvision.datasets.CIFAR10(root, train: false);
var x = set.GetTensor(0)["data"].view(-1);

// PyTorch: 0.00392156886 1
Console.WriteLine($"byte 1 → {x[1].item<float>():G9}, byte 255 → {x[255].item<float>():G9}");
Directory.Delete(root, recursive: true);
