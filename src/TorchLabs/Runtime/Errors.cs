namespace TorchLabs.Runtime;

/// <summary>
/// Bad input from the user: a value, path or name that is not what a command expects.
/// The command line prints its message as one line and exits with code 2.
/// </summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>
/// A run that could not complete for a reason outside the input's form (a download that failed,
/// a diverging training run). The command line prints its message as one line and exits with code 1.
/// </summary>
public sealed class LabFailedException(string message, Exception? inner = null) : Exception(message, inner);
