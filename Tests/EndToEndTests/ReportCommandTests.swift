import Foundation
import Testing

/// A Chromium binary on this machine, if any (`.ci/run` installs Debian's `chromium`).
let chromiumBinary: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
    .first { FileManager.default.isExecutableFile(atPath: $0) }

/// Loads a page in headless Chromium; returns the DOM after load and every console message
/// the page produced (Chromium logs them as `…:CONSOLE:…` lines on stderr, at every level; a
/// report has no scripts, so any message at all is a problem).
func loadInChromium(_ file: URL) throws -> (dom: String, consoleProblems: [String]) {
    let chromium = try #require(chromiumBinary)
    let profile = temporaryFolder("chromium-profile")
    let r = try run(chromium, ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile.path)",
                               "--enable-logging=stderr", "--v=0", "--dump-dom", file.absoluteString])
    #expect(r.status == 0, "chromium failed: \(r.stderr.suffix(2000))")
    let problems = r.stderr.split(separator: "\n").map(String.init).filter { line in
        line.contains(":CONSOLE") || line.contains("Failed to load resource") || line.contains("Refused to")
    }
    return (r.stdout, problems)
}

@Suite("Reports", .enabled(if: chromiumBinary != nil, "chromium not installed (apt-get install chromium): HTML report test skipped"))
struct ReportCommandTests {
    @Test("the console-error check catches a page that logs an error")
    func consoleCheckCanFail() throws {
        let page = temporaryFolder("bad-page").appendingPathComponent("bad.html")
        try FileManager.default.createDirectory(at: page.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("<!DOCTYPE html><html><body><script>console.error('broken page')</script><img src=\"missing.png\"></body></html>".utf8).write(to: page)
        let (_, problems) = try loadInChromium(page)
        #expect(problems.count == 1)
        #expect(problems.first?.contains("\"broken page\"") == true)
    }

    @Test("the HTML report of the demo renders in headless Chromium without console errors")
    func demoHTMLReport() throws {
        let dir = temporaryFolder("report").appendingPathComponent("case")
        #expect(try run(incidentBinary.path, ["demo", "--dir", dir.path, "--no-open"]).status == 0)
        let out = dir.deletingLastPathComponent().appendingPathComponent("report.html")
        let r = try run(incidentBinary.path, ["report", dir.path, "--format", "html", "-o", out.path])
        #expect(r.status == 0, "\(r.stderr)")
        // The report never writes over a file.
        let again = try run(incidentBinary.path, ["report", dir.path, "--format", "html", "-o", out.path])
        #expect(again.status == 2)
        #expect(again.stderr.contains("already exists"))

        let (dom, problems) = try loadInChromium(out)
        #expect(problems.isEmpty, "console: \(problems)")
        // Structure: title, summary, one section per server, timeline, ED 21-02 table with its columns.
        #expect(dom.contains("<h1>Incident report: Demo: Contoso Exchange, March 2021</h1>"))
        #expect(dom.contains("<section id=\"summary\">"))
        for (i, name) in ["EXCH01", "EXCH02", "EXCH03"].enumerated() {
            #expect(dom.contains("<section class=\"server\" id=\"server-\(i)\"><h2>\(name)</h2>"))
        }
        #expect(dom.contains("<section id=\"timeline\">"))
        #expect(dom.contains("<th>Instance</th><th>IP address</th><th>Host OS version</th><th>Exchange version</th><th>Internet-accessible?</th>"))
        let timelineRows = dom.components(separatedBy: "<section id=\"timeline\">")[1].components(separatedBy: "</section>")[0]
            .components(separatedBy: "<tr class=\"sev-").count - 1
        #expect(timelineRows == 74)
        // Printing: Chromium makes a PDF of it.
        let pdf = dir.deletingLastPathComponent().appendingPathComponent("report.pdf")
        let profile = temporaryFolder("chromium-pdf")
        let p = try run(chromiumBinary!, ["--headless=new", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(profile.path)",
                                          "--no-pdf-header-footer", "--print-to-pdf=\(pdf.path)", out.absoluteString])
        #expect(p.status == 0)
        let size = (try? FileManager.default.attributesOfItem(atPath: pdf.path)[.size] as? Int) ?? 0
        #expect(size > 10_000)
    }

    @Test("markdown, CSV and JSON reports of the demo")
    func otherFormats() throws {
        let dir = temporaryFolder("report-md").appendingPathComponent("case")
        #expect(try run(incidentBinary.path, ["demo", "--dir", dir.path, "--no-open"]).status == 0)
        let before = try Data(contentsOf: dir.appendingPathComponent("case.json"))
        let md = try run(incidentBinary.path, ["report", dir.path, "--format", "markdown"])
        #expect(md.status == 0)
        #expect(md.stdout.contains("| EXCH01 | compromised | vulnerable | compromised |"))
        let csv = try run(incidentBinary.path, ["report", dir.path, "--format", "csv"])
        #expect(csv.stdout.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 4)
        let json = try run(incidentBinary.path, ["report", dir.path, "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect((object["servers"] as? [Any])?.count == 3)
        // Reports scan read-only: the case file is not touched.
        #expect(try Data(contentsOf: dir.appendingPathComponent("case.json")) == before)
    }
}

@Suite("Shell completion")
struct CompletionTests {
    @Test("completion scripts are generated for bash, zsh and fish; the bash one parses")
    func scripts() throws {
        for shell in ["bash", "zsh", "fish"] {
            let r = try run(incidentBinary.path, ["--generate-completion-script", shell])
            #expect(r.status == 0)
            #expect(r.stdout.contains("indicators"), "\(shell) script names the subcommands")
            #expect(r.stdout.contains("report"))
        }
        let script = temporaryFolder("completion").appendingPathComponent("incident.bash")
        try FileManager.default.createDirectory(at: script.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(try run(incidentBinary.path, ["--generate-completion-script", "bash"]).stdout.utf8).write(to: script)
        #expect(try run("/bin/bash", ["-n", script.path]).status == 0)
    }
}
