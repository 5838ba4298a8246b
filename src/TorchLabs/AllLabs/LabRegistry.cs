using TorchLabs.Labs;
using TorchLabs.Reporting;

namespace TorchLabs.AllLabs;

/// <summary>
/// The one registration point of the report: every lab that `torchlabs all` runs, in report order.
/// A new lab adds one line here.
/// </summary>
public static class LabRegistry
{
    public static IReadOnlyList<ReportLab> All { get; } =
    [
        new InfoLab(),
        new Cifar10ReportLab(),
        new GradCheckLab(),
        new OptimizersReportLab(),
        new HistogramsReportLab(),
        new VanishingReportLab(),
        new RegressionReportLab(),
        new PerceptronReportLab(),
        new FashionMnistReportLab(),
        new VectorBackpropReportLab(),
        new ErrataLab(),
        new ConformanceReportLab(),
    ];
}
