using TorchLabs.Reporting;

namespace TorchLabs.Tests.Reporting;

public class ReportWriterTests
{
    static Report Sample() =>
        new(
            "T <report>",
            [("seed", "7")],
            [
                new ReportSection(
                    "a",
                    "Lab A",
                    SectionStatus.Ran,
                    [
                        new Paragraph("x < y and `code` and **bold**"),
                        new Table(
                            ["h1", "h|2"],
                            [
                                ["1", "2"],
                            ],
                            "caption"
                        ),
                        new Figure("figures/a.png", "a figure"),
                        new Preformatted("[1,  2000] loss: 2.144"),
                    ],
                    TimeSpan.FromSeconds(1.5)
                ),
                ReportSection.Skipped("b", "Lab B", "no data in /d", "torchlabs b --download"),
            ]
        );

    [Fact]
    public void ToHtml_EscapesTextAndReferencesFiguresRelatively()
    {
        string html = ReportWriter.ToHtml(Sample());
        Assert.Contains("<title>T &lt;report&gt;</title>", html);
        Assert.Contains("x &lt; y and <code>code</code> and <strong>bold</strong>", html);
        Assert.Contains("<img src=\"figures/a.png\" alt=\"a figure\">", html);
        Assert.Contains("<section id=\"b\" class=\"skipped\">", html);
        Assert.Contains("<code>torchlabs b --download</code>", html);
        Assert.Contains("<pre>[1,  2000] loss: 2.144</pre>", html);
    }

    [Fact]
    public void ToMarkdown_HasSameSectionsFiguresAndEscapedTableCells()
    {
        string md = ReportWriter.ToMarkdown(Sample());
        Assert.Contains("## Lab A (1.5 s)", md);
        Assert.Contains("## Lab B (skipped)", md);
        Assert.Contains("![a figure](figures/a.png)", md);
        Assert.Contains("| h1 | h\\|2 |", md);
        Assert.Contains("To run it: `torchlabs b --download`", md);
    }

    [Fact]
    public void Write_CreatesBothFilesAndNoTemporaries()
    {
        string dir = TestEnvironment.NewTempDir();
        ReportWriter.Write(Sample(), dir);
        Assert.Equal(
            ["README.md", "index.html"],
            Directory.GetFiles(dir).Select(f => Path.GetFileName(f)!).Order().ToArray()
        );
    }

    static Report WithVerdicts() =>
        new(
            "R",
            [("seed", "1")],
            [
                new ReportSection("a", "Lab A", SectionStatus.Ran, [new Paragraph("a")], TimeSpan.FromSeconds(2))
                {
                    KeyNumber = "accuracy 54 %",
                    Threads = 1,
                },
                new ReportSection(
                    "c",
                    "Lab C",
                    SectionStatus.Failed,
                    [new Paragraph("Failed: boom")],
                    TimeSpan.FromSeconds(1)
                )
                {
                    KeyNumber = "boom",
                },
                ReportSection.Skipped("b", "Lab B", "no data in /d", "torchlabs b --download"),
            ]
        );

    [Fact]
    public void ToHtml_OpensWithTheVerdictBlock_BeforeTheMachineTable_AndAStickyContents()
    {
        string html = ReportWriter.ToHtml(WithVerdicts());
        int verdicts = html.IndexOf("<section id=\"verdicts\">", StringComparison.Ordinal);
        Assert.True(verdicts > 0 && verdicts < html.IndexOf("<section id=\"machine\">", StringComparison.Ordinal));
        Assert.Contains(
            "<tr class=\"ran\"><td><a href=\"#a\">Lab A</a></td><td class=\"status\">passed</td><td>accuracy 54 "
                + "%</td><td>2.0 s, 1 thread</td></tr>",
            html
        );
        Assert.Contains("<td class=\"status\">failed</td><td>boom</td>", html);
        Assert.Contains(
            "<td class=\"status\">skipped</td><td>no data in /d; to run it: <code>torchlabs b --download</code></td>",
            html
        );
        Assert.Contains("<nav class=\"toc\">", html);
        Assert.Contains("position: sticky", html);
        foreach (string id in new[] { "a", "b", "c" })
            Assert.Contains($"<section id=\"{id}\"", html);
    }

    [Fact]
    public void ToMarkdown_OpensWithTheVerdictTable()
    {
        string md = ReportWriter.ToMarkdown(WithVerdicts());
        Assert.True(
            md.IndexOf("## Verdicts", StringComparison.Ordinal) < md.IndexOf("| seed |", StringComparison.Ordinal)
        );
        Assert.Contains("| [Lab A](#a) | passed | accuracy 54 % | 2.0 s, 1 thread |", md);
        Assert.Contains("| [Lab B](#b) | skipped |", md);
    }
}
