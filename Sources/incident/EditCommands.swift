import ArgumentParser
import Foundation
import IncidentCore

extension StepState: ExpressibleByArgument {}
extension TriageDecision.Decision: ExpressibleByArgument {}

/// Applies edits one at a time, each as its own locked load → apply → save, and prints
/// `saved <what>` on standard output after each save has returned (an acknowledgement a script
/// can rely on: that edit is on disk).
enum HeadlessEditor {
    /// - Parameter validate: checks the edit against the case as loaded; returns an error message.
    static func run(casePath: String, edits: [(CaseEdit, String)], validate: (CaseEdit, CaseFile) -> String?) -> Never {
        let store = CaseStore(path: casePath)
        let responder = Responder.current()
        // Refuse an older or broken case before taking the lock, so nothing at all is written.
        let before: CaseFile
        do { before = try store.loadCurrent() } catch { fail(CaseOpening.describeLoadError(error, store: store)) }
        // Every edit is checked before the first is saved: a bad line in an edits file must not
        // leave the case half changed.
        for (i, (edit, label)) in edits.enumerated() {
            if let problem = validate(edit, before) {
                fail("edit \(i + 1) of \(edits.count) (\(label)): \(problem); nothing was saved")
            }
        }
        for (edit, label) in edits {
            do {
                try store.withLock {
                    var caseFile = try store.loadCurrent()
                    if let problem = validate(edit, caseFile) { fail(problem) }
                    caseFile.apply(edit, by: responder, at: Date())
                    try store.save(caseFile)
                }
            } catch {
                fail(CaseOpening.describeLoadError(error, store: store))
            }
            FileHandle.standardOutput.write(Data("saved \(TextSafety.escape(label))\n".utf8))
        }
        Foundation.exit(0)
    }

    /// Reads an edits file (`-` for standard input): one edit per line, fields separated by
    /// white space, the last field (a note) running to the end of the line; blank lines and
    /// lines starting with `#` are skipped. Lines end with LF, CRLF or CR (a file written on
    /// Windows is read line by line too: in Swift `"\r\n"` is one `Character`, so splitting on
    /// `"\n"` alone would read it as one line); no line end ever reaches a field or a note.
    static func lines(of path: String, fields: Int) -> [(line: Int, fields: [String], note: String?)] {
        let data: Data?
        if path == "-" { data = FileHandle.standardInput.readDataToEndOfFile() } else { data = FileManager.default.contents(atPath: path) }
        guard let data else { fail("\(path): cannot read the edits file") }
        guard let text = String(data: data, encoding: .utf8) else { fail("\(path): the edits file is not UTF-8 text") }
        return parse(text, path: path, fields: fields)
    }

    /// The lines of an edits file's text: see ``lines(of:fields:)``.
    static func parse(_ text: String, path: String, fields: Int) -> [(line: Int, fields: [String], note: String?)] {
        var out: [(Int, [String], String?)] = []
        let lineEnds: (Character) -> Bool = { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }
        for (i, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: lineEnds).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(maxSplits: fields, whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard parts.count >= fields else { fail("\(path):\(i + 1):1: expected \(fields) fields, found \(parts.count)") }
            let note = parts.count > fields ? parts[fields].trimmingCharacters(in: .whitespaces) : nil
            out.append((i + 1, Array(parts.prefix(fields)), note))
        }
        return out
    }
}

struct StepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "step",
        abstract: "Change remediation checklist steps without the console.",
        subcommands: [StepSetCommand.self]
    )
}

struct StepSetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Set the state of a checklist step on a server.",
        discussion: """
        Each edit is applied under the case lock to the case as it is on disk and saved at once, so consoles and other commands working on the same case lose nothing; it is recorded in the audit trail. After each save, a line `saved SERVER/STEP STATE` is printed.

        States: todo, in-progress, done, blocked, not-applicable. Step ids are those of the playbook (shown in the console's checklist detail).

        --from FILE applies many edits, one per line: `SERVER STEP STATE [NOTE…]` (`-` reads standard input; `#` starts a comment line; lines end with LF, CRLF or CR). Each line is its own locked save.

        Exit codes: 0 all edits saved; 2 error (unknown server or step, unreadable case; edits before the failing one are saved).

        Examples:
          incident step set ./case-2021-03 EXCH01 patch --state done --note "KB5000871 installed"
          incident step set ./case-2021-03 --from edits.txt
        """
    )

    @Argument(help: "The case folder, or its case.json.")
    var casePath: String
    @Argument(help: "Server name (as in the case).")
    var server: String?
    @Argument(help: "Step id (from the playbook).")
    var step: String?
    @Option(help: "New state: todo, in-progress, done, blocked, not-applicable.")
    var state: StepState?
    @Option(help: "A note kept with the step.")
    var note: String?
    @Option(help: "Apply the edits listed in this file (one `SERVER STEP STATE [NOTE]` per line; - for stdin).")
    var from: String?

    func validate() throws {
        if from != nil {
            if server != nil || state != nil || note != nil { throw ValidationError("--from cannot be combined with SERVER, STEP, --state or --note") }
        } else if server == nil || step == nil || state == nil {
            throw ValidationError("give SERVER, STEP and --state (or --from FILE)")
        }
    }

    func run() throws {
        let playbook: Playbook
        do { playbook = try Playbook.forCase(folder: CaseStore(path: casePath).folder) } catch { fail("\(error)") }
        var edits: [(CaseEdit, String)] = []
        if let from {
            for (line, f, note) in HeadlessEditor.lines(of: from, fields: 3) {
                guard let state = StepState(rawValue: f[2]) else { fail("\(from):\(line):1: unknown state \"\(f[2])\" (todo, in-progress, done, blocked, not-applicable)") }
                edits.append((.setStep(server: f[0], step: f[1], state: state, note: note), "\(f[0])/\(f[1]) \(state.rawValue)"))
            }
        } else if let server, let step, let state {
            edits.append((.setStep(server: server, step: step, state: state, note: note), "\(server)/\(step) \(state.rawValue)"))
        }
        let stepIds = Set(playbook.steps.map(\.id))
        HeadlessEditor.run(casePath: casePath, edits: edits) { edit, caseFile in
            guard case let .setStep(server, step, _, _) = edit else { return nil }
            if caseFile.server(named: server)?.name != server {
                if let known = caseFile.server(named: server) { return "server \"\(server)\" is spelled \"\(known.name)\" in this case" }
                return "no server \"\(server)\" in this case (servers: \(caseFile.servers.map(\.name).joined(separator: ", ")))"
            }
            if !stepIds.contains(step) { return "unknown step \"\(step)\" (steps: \(playbook.steps.map(\.id).joined(separator: ", ")))" }
            return nil
        }
    }
}

struct TriageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "triage",
        abstract: "Record triage decisions about hits without the console.",
        subcommands: [TriageSetCommand.self]
    )
}

struct TriageSetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Record a triage decision for a hit.",
        discussion: """
        HIT-ID is the 16-hex-digit hit id shown by `incident scan --format json`. Decisions: confirmed, false-positive, needs-review. Each decision is applied under the case lock to the case as it is on disk, saved at once and audited; `saved HIT-ID DECISION` is printed after each save.

        The hit must be one the case's evidence gives now: the evidence is scanned once, read-only (as `incident report` does; nothing is registered), and an id no hit has is refused, naming the id, with nothing saved.

        --from FILE applies many, one per line: `HIT-ID DECISION [NOTE…]` (`-` reads standard input; lines end with LF, CRLF or CR). Every line is checked (id, decision, and that the hit exists) before the first is saved: one bad line and nothing is saved.

        Exit codes: 0 all saved; 2 error (a malformed or unknown hit id, an unknown decision, a case that cannot be read or written: nothing is saved).

        Example:
          incident triage set ./case-2021-03 3f2a9c0d11b4e5a6 --decision false-positive --note "our scanner"
        """
    )

    @Argument(help: "The case folder, or its case.json.")
    var casePath: String
    @Argument(help: "The hit id (16 hex digits).")
    var hitId: String?
    @Option(help: "Decision: confirmed, false-positive, needs-review.")
    var decision: TriageDecision.Decision?
    @Option(help: "A note kept with the decision.")
    var note: String?
    @Option(help: "Apply the decisions listed in this file (one `HIT-ID DECISION [NOTE]` per line; - for stdin).")
    var from: String?

    func validate() throws {
        if from != nil {
            if hitId != nil || decision != nil || note != nil { throw ValidationError("--from cannot be combined with HIT-ID, --decision or --note") }
        } else if hitId == nil || decision == nil {
            throw ValidationError("give HIT-ID and --decision (or --from FILE)")
        }
    }

    static func isHitID(_ s: String) -> Bool {
        s.count == 16 && s.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }

    func run() throws {
        var edits: [(CaseEdit, String)] = []
        if let from {
            for (line, f, note) in HeadlessEditor.lines(of: from, fields: 2) {
                guard Self.isHitID(f[0]) else { fail("\(from):\(line):1: \"\(f[0])\" is not a hit id (16 lowercase hex digits)") }
                guard let d = TriageDecision.Decision(rawValue: f[1]) else { fail("\(from):\(line):1: unknown decision \"\(f[1])\" (confirmed, false-positive, needs-review)") }
                edits.append((.triage(hitId: f[0], decision: d, note: note ?? ""), "\(f[0]) \(d.rawValue)"))
            }
        } else if let hitId, let decision {
            guard Self.isHitID(hitId) else { fail("\"\(hitId)\" is not a hit id (16 lowercase hex digits, see incident scan --format json)") }
            edits.append((.triage(hitId: hitId, decision: decision, note: note ?? ""), "\(hitId) \(decision.rawValue)"))
        }
        // The hits the evidence gives now, from one read-only scan (the one reports and exports use).
        let (snapshot, _, _) = CaseLoader.scanReadOnly(casePath)
        let known = Set(snapshot.hits.map(\.id))
        HeadlessEditor.run(casePath: casePath, edits: edits) { edit, _ in
            guard case let .triage(id, _, _) = edit, !known.contains(id) else { return nil }
            return Self.unknownHitMessage(id, hits: known.count)
        }
    }

    /// Why an id is refused: no hit of the case's evidence has it.
    static func unknownHitMessage(_ id: String, hits: Int) -> String {
        "no hit with id \(id) in this case: a read-only scan of its evidence finds \(hits) hit(s), none with this id (hit ids: incident scan CASE --read-only --format json)"
    }
}
