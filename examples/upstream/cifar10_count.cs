// TorchVision 0.107's datasets.CIFAR10 refuses a batch file that does not hold exactly 10,000 records
// (docs/conformance.md). Run from the repository root: dotnet run examples/upstream/cifar10_count.cs
// Outside it: replace the two lines below by #:package TorchSharp-cpu@0.107.0 and #:package TorchVision@0.107.0.
#:property UsesTorchSharp=true
#:package TorchVision
#:property PublishAot=false
using TorchSharp;

// A test_batch.bin of 12 records, as a subset or a generated file has.
string root = Path.Combine(Path.GetTempPath(), $"cifar10-count-{Environment.ProcessId}");
string folder = Path.Combine(root, "CIFAR10", "cifar-10-batches-bin");
Directory.CreateDirectory(folder);
File.WriteAllBytes(Path.Combine(folder, "test_batch.bin"), new byte[12 * 3073]);
try
{
    using var set = torchvision.datasets.CIFAR10(root, train: false);
    Console.WriteLine($"{set.Count} records"); // PyTorch: 12 records
}
catch (InvalidDataException e)
{
    Console.WriteLine($"refused: {e.GetType().Name}: {e.Message}");
}
Directory.Delete(root, recursive: true);
