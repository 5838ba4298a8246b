using TorchLabs.Cli;

return Cli.Run(args);
