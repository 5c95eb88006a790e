import ArgumentParser
import Foundation
import IncidentCore

struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Put the backup of the case file (case.json.bak) back in place.",
        discussion: """
        Every save keeps the version before it as CASE/case.json.bak. When case.json no longer loads (a bad hand edit, a full disk, a broken copy), this restores the backup. The current case.json is never deleted: it is kept as case.json.broken-<UTC time>. Nothing is changed when the backup does not load either.

        Exit codes: 0 restored; 2 error (no backup, backup does not load, I/O).

        Example:
          incident restore ./case-2021-03
        """
    )

    @Argument(help: "The case folder, or its case.json.")
    var casePath: String

    func run() throws {
        let store = CaseStore(path: casePath)
        do {
            let kept = try store.restoreBackup()
            print("restored \(TextSafety.escape(store.backupURL.path)) as case.json" + (kept.map { "; the previous case.json is kept as \(TextSafety.escape($0.lastPathComponent))" } ?? ""))
        } catch {
            fail("\(error)")
        }
    }
}

struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Upgrade a case file from an older schema version.",
        discussion: """
        Commands that write refuse a case of an older schemaVersion until it is migrated, and leave it byte-for-byte unchanged; the console asks first. This migrates it now: the old file is kept as case.json.schema<N>.bak and the migration is recorded in the audit trail.

        Exit codes: 0 migrated or already current; 2 error.

        Example:
          incident migrate ./case-2021-03
        """
    )

    @Argument(help: "The case folder, or its case.json.")
    var casePath: String

    func run() throws {
        let store = CaseStore(path: casePath)
        do {
            if let from = try store.migrate() {
                print("migrated \(TextSafety.escape(store.fileURL.path)) from schemaVersion \(from) to \(CaseFile.currentSchemaVersion); the old file is kept as case.json.schema\(from).bak")
            } else {
                print("\(TextSafety.escape(store.fileURL.path)) is already at schemaVersion \(CaseFile.currentSchemaVersion)")
            }
        } catch {
            fail(CaseOpening.describeLoadError(error, store: store))
        }
    }
}

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a case and the files it uses; report every problem with file, line and column.",
        discussion: """
        Reports every problem it can find in one run, each as FILE:LINE:COLUMN: error|warning: MESSAGE:
          case.json      what stops it loading (invalid UTF-8, JSON syntax, a newer schema, a string over 1 MiB, a wrong type or missing key: the first, since the rest cannot be read past it; every duplicate server name, evidence path or conflicting triage decision), and, for a case that reads, every dangling reference (checklists of unknown servers, unknown step ids, evidence of unknown servers or outside evidence/ without being an absolute reference, bad hashes) and an older schema (warnings)
          playbook.json  the case's own playbook: its JSON or shape, else every unknown step in remove, repeated step id and unknown dependsOn
          indicators/    each enabled indicator pack that does not load (every stored pack when case.json is too broken to tell which are enabled)
          rules/         each case YARA rule file that does not compile (libyara gives no column: 1)
        Never writes anything.

        Exit codes: 0 no problems; 1 warnings only (the case loads); 2 any error: the case does not load, or its playbook, an enabled indicator pack or a YARA rule file is broken, or the case cannot be read.

        Example:
          incident check ./case-2021-03
        """
    )

    @Argument(help: "The case folder, or its case.json.")
    var casePath: String

    func run() throws {
        let store = CaseStore(path: casePath)
        guard let data = FileManager.default.contents(atPath: store.fileURL.path) else {
            fail("\(store.fileURL.path): cannot read (no case file here?)")
        }
        let reports = CaseCheck.checkCase(data, store: store)
        for r in reports { print(TextSafety.escape(r.description)) }
        if reports.contains(where: \.isError) {
            if reports.contains(where: { $0.isError && $0.file == store.fileURL.path }), let backup = CaseOpening.usableBackup(store) {
                print("the previous good version \(TextSafety.escape(backup.path)) loads: incident restore \(TextSafety.escape(store.folder.path))")
            }
            let errors = reports.filter(\.isError).count
            FileHandle.standardError.write(Data("incident: \(errors) error(s), \(reports.count - errors) warning(s)\n".utf8))
            throw ExitCode(2)
        }
        if !reports.isEmpty { throw ExitCode(1) }
        print("\(TextSafety.escape(store.fileURL.path)): ok (schemaVersion \(CaseSchema.version(of: data) ?? 0), no problems)")
    }
}
