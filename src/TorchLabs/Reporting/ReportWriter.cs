using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace TorchLabs.Reporting;

/// <summary>Renders a <see cref="Report"/> as README.md and index.html (the same content), written
/// atomically.</summary>
public static partial class ReportWriter
{
    /// <summary>
    /// Writes the figures of every section, README.md and index.html as one change: everything goes to temporary names
    /// first, and only when all of it is written are the files renamed into place. A failure on the way (a full disk)
    /// removes every temporary and leaves the previous report as it was, figures included; a full disk is then one
    /// line, "cannot write OUT: no space left on device" (<see cref="DiskFullException"/>).
    /// </summary>
    public static void Write(Report report, string outDir)
    {
        var files = new List<(string Path, Action<string> Write)>();
        foreach (var f in report.Sections.SelectMany(s => s.Blocks).OfType<Figure>())
            if (f.Render is { } render)
                files.Add((Path.Combine(outDir, f.RelativePath), tmp => File.WriteAllBytes(tmp, render())));
        files.Add((Path.Combine(outDir, "README.md"), tmp => File.WriteAllText(tmp, ToMarkdown(report))));
        files.Add((Path.Combine(outDir, "index.html"), tmp => File.WriteAllText(tmp, ToHtml(report))));
        AtomicFile.WriteAll(files, outDir);
    }

    public static string ToMarkdown(Report report)
    {
        var sb = new StringBuilder();
        sb.Append("# ").Append(report.Title).Append("\n\n");
        if (report.Sections.Count > 1)
        {
            sb.Append(
                "<a id=\"verdicts\"></a>\n\n## Verdicts\n\n| lab | status | key number | time |\n|---|---|---|---|\n"
            );
            foreach (var s in report.Sections)
                sb.Append(
                    $"| [{Cell(s.Title)}](#{s.Id}) | {StatusWord(s)} | {Cell(s.KeyNumber ?? "")} | {TimeCell(s)} |\n"
                );
            sb.Append('\n');
        }
        if (report.Header.Count > 0)
        {
            sb.Append("| | |\n|---|---|\n");
            foreach (var (k, v) in report.Header)
                sb.Append("| ").Append(Cell(k)).Append(" | ").Append(Cell(v)).Append(" |\n");
            sb.Append('\n');
        }
        foreach (var s in report.Sections)
        {
            sb.Append($"<a id=\"{s.Id}\"></a>\n\n## ").Append(s.Title).Append(StatusSuffix(s)).Append("\n\n");
            foreach (var b in s.Blocks)
                AppendMarkdown(sb, b);
        }
        return sb.ToString();
    }

    static void AppendMarkdown(StringBuilder sb, Block b)
    {
        switch (b)
        {
            case Paragraph p:
                sb.Append(p.Text).Append("\n\n");
                break;
            case Table t:
                if (t.Caption is not null)
                    sb.Append("**").Append(t.Caption).Append("**\n\n");
                sb.Append("| ").Append(string.Join(" | ", t.Header.Select(Cell))).Append(" |\n");
                sb.Append('|').Append(string.Concat(t.Header.Select(_ => "---|"))).Append('\n');
                foreach (var row in t.Rows)
                    sb.Append("| ").Append(string.Join(" | ", row.Select(Cell))).Append(" |\n");
                sb.Append('\n');
                break;
            case Figure f:
                sb.Append("![")
                    .Append(f.Caption)
                    .Append("](")
                    .Append(f.RelativePath)
                    .Append(")\n\n*")
                    .Append(f.Caption)
                    .Append("*\n\n");
                break;
            case Preformatted pre:
                sb.Append("```\n").Append(pre.Text.TrimEnd('\n')).Append("\n```\n\n");
                break;
        }
    }

    public static string ToHtml(Report report)
    {
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>")
            .Append(Enc(report.Title))
            .Append("</title>\n");
        sb.Append("<style>\n").Append(Css).Append("</style>\n</head>\n<body>\n<div class=\"layout\">\n");
        // A table of contents that stays in view (position: sticky), each lab marked with its status.
        sb.Append("<nav class=\"toc\">\n<a href=\"#verdicts\"><strong>Verdicts</strong></a>\n");
        foreach (var s in report.Sections)
            sb.Append($"<a href=\"#{s.Id}\" class=\"{StatusClass(s)}\">{Enc(s.Title)}</a>\n");
        sb.Append("<a href=\"#machine\">Machine</a>\n</nav>\n<main>\n");
        sb.Append("<h1>").Append(Enc(report.Title)).Append("</h1>\n");
        sb.Append(
            "<section id=\"verdicts\">\n<h2>Verdicts</h2>\n<table class=\"verdicts\">\n<thead><tr><th>lab</th><th>status</th><th>key number</th><th>time</th></tr></thead>\n<tbody>\n"
        );
        foreach (var s in report.Sections)
            sb.Append(
                $"<tr class=\"{StatusClass(s)}\"><td><a href=\"#{s.Id}\">{Enc(s.Title)}</a></td><td class=\"status\">{Enc(StatusWord(s))}</td><td>{Inline(s.KeyNumber ?? "")}</td><td>{Enc(TimeCell(s))}</td></tr>\n"
            );
        sb.Append("</tbody>\n</table>\n</section>\n");
        sb.Append("<section id=\"machine\">\n<h2>Machine and run</h2>\n<table class=\"header\">\n");
        foreach (var (k, v) in report.Header)
            sb.Append("<tr><th>").Append(Enc(k)).Append("</th><td>").Append(Inline(v)).Append("</td></tr>\n");
        sb.Append("</table>\n</section>\n");
        foreach (var s in report.Sections)
        {
            sb.Append($"<section id=\"{s.Id}\" class=\"{StatusClass(s)}\">\n<h2>")
                .Append(Enc(s.Title + StatusSuffix(s)))
                .Append("</h2>\n");
            foreach (var b in s.Blocks)
                AppendHtml(sb, b);
            sb.Append("</section>\n");
        }
        sb.Append("</main>\n</div>\n<script>\n").Append(ImageCheckScript).Append("</script>\n</body>\n</html>\n");
        return sb.ToString();
    }

    static void AppendHtml(StringBuilder sb, Block b)
    {
        switch (b)
        {
            case Paragraph p:
                sb.Append("<p>").Append(Inline(p.Text)).Append("</p>\n");
                break;
            case Table t:
                sb.Append("<table>\n");
                if (t.Caption is not null)
                    sb.Append("<caption>").Append(Inline(t.Caption)).Append("</caption>\n");
                sb.Append("<thead><tr>")
                    .Append(string.Concat(t.Header.Select(h => $"<th>{Inline(h)}</th>")))
                    .Append("</tr></thead>\n<tbody>\n");
                foreach (var row in t.Rows)
                    sb.Append("<tr>").Append(string.Concat(row.Select(c => $"<td>{Inline(c)}</td>"))).Append("</tr>\n");
                sb.Append("</tbody>\n</table>\n");
                break;
            case Figure f:
                sb.Append("<figure><img src=\"")
                    .Append(Enc(f.RelativePath))
                    .Append("\" alt=\"")
                    .Append(Enc(f.Caption))
                    .Append("\"><figcaption>")
                    .Append(Inline(f.Caption))
                    .Append("</figcaption></figure>\n");
                break;
            case Preformatted pre:
                sb.Append("<pre>").Append(Enc(pre.Text.TrimEnd('\n'))).Append("</pre>\n");
                break;
        }
    }

    static string StatusSuffix(ReportSection s) =>
        s.Status switch
        {
            SectionStatus.Skipped => " (skipped)",
            SectionStatus.Failed => " (failed)",
            _ => s.Elapsed > TimeSpan.Zero
                ? $" ({s.Elapsed.TotalSeconds:0.0} s{(s.Threads is int t ? $", {t} thread{(t == 1 ? "" : "s")}" : "")})"
                : "",
        };

    static string StatusClass(ReportSection s) =>
        s.Status switch
        {
            SectionStatus.Skipped => "skipped",
            SectionStatus.Failed => "failed",
            _ => "ran",
        };

    /// <summary>The verdict: passed (the lab ran and its checks held), failed, or skipped.</summary>
    static string StatusWord(ReportSection s) =>
        s.Status switch
        {
            SectionStatus.Skipped => "skipped",
            SectionStatus.Failed => "failed",
            _ => "passed",
        };

    static string TimeCell(ReportSection s) =>
        s.Status == SectionStatus.Skipped
            ? "–"
            : $"{s.Elapsed.TotalSeconds:0.0} s" + (s.Threads is int t ? $", {t} thread{(t == 1 ? "" : "s")}" : "");

    static string Cell(string s) => s.Replace("|", "\\|").Replace("\n", " ");

    static string Enc(string s) => WebUtility.HtmlEncode(s);

    /// <summary>HTML-encodes text and turns Markdown's `code` and **bold** into their HTML elements.</summary>
    static string Inline(string s)
    {
        string e = Enc(s);
        e = CodeSpan().Replace(e, "<code>$1</code>");
        e = BoldSpan().Replace(e, "<strong>$1</strong>");
        return e;
    }

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex CodeSpan();

    [GeneratedRegex(@"\*\*([^*]+)\*\*")]
    private static partial Regex BoldSpan();

    /// <summary>
    /// Marks on the body, once the page has loaded, how many images loaded and which did not; a headless
    /// browser (scripts/check-report.sh) reads these attributes from the rendered DOM.
    /// </summary>
    const string ImageCheckScript = """
        window.addEventListener('load', function () {
          var images = Array.prototype.slice.call(document.images);
          var broken = images.filter(function (i) { return !(i.complete && i.naturalWidth > 0); })
                             .map(function (i) { return i.getAttribute('src'); });
          document.body.setAttribute('data-images-loaded', String(images.length - broken.length));
          document.body.setAttribute('data-images-broken', broken.join(' '));
        });

        """;

    const string Css = """
        body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; background: #fafafa; margin: 0; }
        main { max-width: 1100px; margin: 0 auto; padding: 1.5rem 2rem 4rem; background: #fff; }
        h1 { margin-top: 0.5rem; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.3rem; margin-top: 2.5rem; }
        table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.92rem; }
        th, td { border: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }
        thead th { background: #f0f0f0; } table.header th { background: #f6f6f6; }
        caption { caption-side: top; text-align: left; font-weight: 600; padding-bottom: 0.3rem; }
        figure { margin: 1rem 0; } figure img { max-width: 100%; border: 1px solid #eee; }
        figcaption { font-size: 0.9rem; color: #555; }
        pre { background: #f5f5f5; padding: 0.6rem; overflow-x: auto; font-size: 0.85rem; }
        code { background: #f3f3f3; padding: 0 0.2rem; }
        section.skipped h2 { color: #8a6d00; } section.failed h2 { color: #b00020; }
        .layout { display: flex; align-items: flex-start; max-width: 1400px; margin: 0 auto; }
        nav.toc { position: sticky; top: 0; max-height: 100vh; overflow-y: auto; width: 250px; flex: none;
                  padding: 1.5rem 0.8rem; font-size: 0.88rem; box-sizing: border-box; }
        nav.toc a { display: block; padding: 0.2rem 0.4rem; color: #1a4d8f; text-decoration: none;
                    border-left: 3px solid #2e7d32; margin: 0.15rem 0; }
        nav.toc a.failed { border-left-color: #b00020; } nav.toc a.skipped { border-left-color: #c9a100; }
        nav.toc a:first-child, nav.toc a:last-child { border-left-color: transparent; }
        main { flex: 1; min-width: 0; margin: 0; }
        table.verdicts td.status { font-weight: 600; }
        tr.ran td.status { color: #2e7d32; }
        tr.failed td.status { color: #b00020; }
        tr.skipped td.status { color: #8a6d00; }

        """;
}
