import ArgumentParser
import ConsoleUI
import Foundation
import IncidentCore

/// Options shared by the commands that open the console.
struct ConsoleOptions: ParsableArguments {
    @Option(help: "Theme name: one shipped in Themes/ or in $XDG_CONFIG_HOME/incident/themes.")
    var theme: String = "default"

    @Flag(help: "No colours, attributes only (also when NO_COLOR is set).")
    var noColor = false

    @Flag(help: "ASCII borders and text only.")
    var ascii = false

    @Option(help: "Seconds between background rescans of the evidence folder (default: the case's setting, 2).")
    var interval: Double?

    @Flag(help: "Review only: nothing is written to the case.")
    var readOnly = false
}

struct OpenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "open",
        abstract: "Open the console on a case.",
        discussion: """
        CASE is the case folder or its case.json. Evidence placed anywhere under CASE/evidence/<server-name>/ is picked up, hashed and scanned while the console runs. Press ? in the console for the keys.

        Exit codes: 0 the console closed normally; 2 error (bad arguments, a case that cannot be read, a terminal that cannot run the console, changes that could not be saved).

        Example:
          incident open ./case-2021-03 --theme monochrome
        """
    )

    @Argument(help: "The case folder, or its case.json.")
    var casePath: String

    @OptionGroup var options: ConsoleOptions

    func run() throws {
        try ConsoleLauncher.open(casePath: casePath, options: options)
    }
}

struct NewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Create an empty case folder.",
        discussion: """
        Creates DIR/case.json and DIR/evidence/. Refuses to touch an existing case. The folders are made 0700 and the files 0600 (only you can read the case) unless --shared-group names a Unix group to share it with.

        Exit codes: 0 success; 2 error (bad arguments, a case that cannot be read or written).

        Example:
          incident new ./case-2021-03 --name "Contoso Exchange compromise"
        """
    )

    @Argument(help: "The folder to create the case in.")
    var dir: String

    @Option(help: "The case name.")
    var name: String

    @Option(help: "Share the case with this Unix group: folders 2770 and files 0660 with that group, instead of 0700/0600.")
    var sharedGroup: String?

    func validate() throws {
        if name.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--name must not be empty") }
    }

    func run() throws {
        let store = CaseStore(path: dir)
        var caseFile = CaseFile(name: name)
        caseFile.audit.append(AuditEntry(at: caseFile.created, by: Responder.current(), action: "case.created", after: name))
        do {
            try store.create(caseFile, sharedGroup: sharedGroup)
        } catch {
            fail("\(error)")
        }
        let folder = TextSafety.escape(store.folder.path)
        print("created case \"\(TextSafety.escape(name))\" in \(folder)")
        print("put evidence under \(folder)/evidence/<server-name>/ and run: incident open \(folder)")
    }
}

/// Loads the engine, playbook and case, or exits with a clear message.
enum CaseLoader {
    /// Loads the case without writing anything and scans its evidence once, read-only (for
    /// reports and exports).
    static func scanReadOnly(_ path: String) -> (CaseSnapshot, RuleEngine, Playbook) {
        let (store, caseFile, engine, playbook) = load(path, writes: false)
        let session = CaseSession(store: store, caseFile: caseFile, engine: engine, playbook: playbook, readOnly: true)
        return (session.scanOnce(), engine, playbook)
    }

    /// - Parameters:
    ///   - writes: the command will write to the case (needs the current schema version).
    ///   - interactive: ask on the terminal before migrating or restoring a backup.
    static func load(_ path: String, writes: Bool = true, interactive: Bool = false) -> (CaseStore, CaseFile, RuleEngine, Playbook) {
        let store = CaseStore(path: path)
        let caseFile: CaseFile
        caseFile = CaseOpening.load(store, writes: writes, interactive: interactive)
        let engine: RuleEngine
        let playbook: Playbook
        do {
            engine = try RuleEngine.forCase(folder: store.folder, caseFile: caseFile)
        } catch {
            fail("indicators: \(error)")
        }
        // The case's own playbook.json (if any) extends the built-in one; its errors name the file.
        do { playbook = try Playbook.forCase(folder: store.folder) } catch { fail("\(error)") }
        return (store, caseFile, engine, playbook)
    }
}
