import ArgumentParser
import Foundation
import IncidentCore

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Copy the bundled demo case into a fresh folder and open it.",
        discussion: """
        The demo has three Exchange servers: EXCH01 compromised (ProxyLogon chain, web shell), EXCH02 only probed, EXCH03 with no findings. It mixes files written for the demo with real public files (see NOTICE).

        Exit codes: 0 success (the console closed normally, or --no-open); 2 error.

        Examples:
          incident demo
          incident demo --dir ./demo-case --no-open
        """
    )

    @Option(help: "Where to put the demo case (must not exist yet, or be empty). Default: a new folder under the system temporary folder.")
    var dir: String?

    @Flag(help: "Only copy the case and print where; do not open the console.")
    var noOpen = false

    @OptionGroup var options: ConsoleOptions

    func run() throws {
        let target = try DemoCase.install(into: dir)
        print("demo case copied to \(target.path)")
        guard !noOpen else { return }
        try ConsoleLauncher.open(casePath: target.path, options: options)
    }
}

enum DemoCase {
    /// The bundled demo case folder: SwiftPM puts it in `incident-console_incident.resources`
    /// beside the executable. Looked up by hand (not `Bundle.module`, which aborts the process
    /// when the folder is missing, e.g. for a binary copied on its own).
    static var source: URL? {
        let bundleName = "incident-console_incident.resources"
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let candidates = [
            Bundle.main.bundleURL.appendingPathComponent(bundleName),
            executable.deletingLastPathComponent().appendingPathComponent(bundleName),
            executable.deletingLastPathComponent().appendingPathComponent("../share/incident/\(bundleName)"),
        ]
        for c in candidates {
            let demo = c.appendingPathComponent("DemoCase")
            if FileManager.default.fileExists(atPath: demo.appendingPathComponent("case.json").path) { return demo }
        }
        return nil
    }

    /// Copies the demo into `dir` (or a new temporary folder) with a fresh case id and date.
    static func install(into dir: String?) throws -> URL {
        guard let source else {
            fail("the demo case was not found: keep the folder incident-console_incident.resources next to the incident binary (swift build puts it there)")
        }
        let fm = FileManager.default
        let target: URL
        if let dir {
            target = URL(fileURLWithPath: dir).standardizedFileURL
            if fm.fileExists(atPath: target.path) {
                let contents = (try? fm.contentsOfDirectory(atPath: target.path)) ?? ["?"]
                if !contents.isEmpty { fail("\(target.path) already exists and is not empty; choose another --dir") }
                try? fm.removeItem(at: target)
            }
        } else {
            let stamp = String(Int(Date().timeIntervalSince1970))
            target = fm.temporaryDirectory.appendingPathComponent("incident-demo-\(stamp)-\(UInt16.random(in: 0...UInt16.max))")
        }
        do {
            try fm.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try fm.copyItem(at: source, to: target)
            try? fm.removeItem(at: target.appendingPathComponent("EVIDENCE.md"))
            // A case is private like one made by `incident new`: folders 0700, files 0600.
            _ = chmod(target.path, 0o700)
            if let walker = fm.enumerator(at: target, includingPropertiesForKeys: [.isDirectoryKey]) {
                for case let url as URL in walker {
                    let isDir = (try? url.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) ?? false
                    _ = chmod(url.path, isDir ? 0o700 : 0o600)
                }
            }
            let store = CaseStore(folder: target)
            var caseFile = try store.load()
            caseFile.caseId = UUID().uuidString.lowercased()
            caseFile.created = Date()
            caseFile.audit = [AuditEntry(at: caseFile.created, by: Responder.current(), action: "case.created", after: "demo case")]
            try store.save(caseFile)
        } catch {
            fail("cannot create the demo case in \(target.path): \(error)")
        }
        return target
    }
}
