import ArgumentParser
import Foundation
import IncidentCore

extension ReportFormat: ExpressibleByArgument {}

/// `incident report`: a report of the case for the people who ask.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a report of the case: summary, findings per server, timeline, checklist, ED 21-02 status.",
        discussion: """
        Scans the evidence read-only (the case file is not changed) and writes:
          markdown  executive summary, findings per server with evidence references and SHA-256, checklist with who and when, hit timeline (first \(ReportRenderer.timelineLimit)), ED 21-02 status table
          html      the same as one self-contained file (no external assets) that reads well in a browser and prints well
          csv       one row per server: the ED 21-02 status template columns, then verdict, patch state, compromise state, steps done and applicable, hits, done
          json      everything, with the whole timeline
        Evidence text is shown with control and bidi characters as visible \\u{…} escapes. Hits triaged as false positives are left out (and counted).

        Exit codes: 0 written; 2 error (case unreadable, output file exists, cannot write).

        Examples:
          incident report ./case --format html -o report.html
          incident report ./case --format markdown > report.md
          incident report ./case --format csv -o ed2102-status.csv
        """
    )

    @Argument(help: "The case folder, or its case.json.")
    var casePath: String

    @Option(help: "markdown, html, csv or json.")
    var format: ReportFormat = .markdown

    @Option(name: [.short, .customLong("output")], help: "Write to this file (it must not exist yet) instead of standard output.")
    var output: String?

    func run() throws {
        let (snapshot, engine, playbook) = CaseLoader.scanReadOnly(casePath)
        let report = CaseReport(snapshot: snapshot, playbook: playbook, indicators: engine.pack.indicators)
        let data: Data
        do { data = try ReportRenderer.render(report, as: format) } catch { fail("cannot encode the report: \(error)") }
        ExportOutput.write(data, to: output)
    }
}
