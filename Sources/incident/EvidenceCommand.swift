import ArgumentParser
import Foundation
import IncidentCore

/// `incident evidence …`.
struct EvidenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evidence",
        abstract: "Register evidence kept outside the case folder.",
        subcommands: [EvidenceAddCommand.self]
    )
}

struct EvidenceAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Register files kept outside the case folder as evidence of a server, by reference.",
        discussion: """
        Each file is read once to record its size, SHA-256 and modification time, with who registered it and from where (host, SSH client). It is not copied, moved or modified; scans read it where it is. A later change other than an append flags it as altered; a file that disappears is reported as missing. Evidence under CASE/evidence/<server>/ needs no registration.

        Exit codes: 0 every file registered (or already registered); 2 an error (a file unreadable, not a regular file, inside the case folder; a bad server name; a case that cannot be written).

        Examples:
          incident evidence add ./case EXCH01 /mnt/kape/EXCH01/inetpub/logs/LogFiles/W3SVC1/u_ex210303.log
          incident evidence add ./case EXCH02 /srv/collection/EXCH02/*.LOG
        """
    )

    @Argument(help: "The case folder, or its case.json.")
    var casePath: String

    @Argument(help: "The server the evidence belongs to (created when the case does not have it).")
    var server: String

    @Argument(help: "The files to register.")
    var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("name at least one file") }
    }

    func run() throws {
        let store = CaseStore(path: casePath)
        _ = CaseOpening.load(store, writes: true, interactive: false)
        let who = Responder.current()
        for file in files {
            do {
                switch try EvidenceReference.add(file, server: server, to: store, responder: who) {
                case let .added(record):
                    print("registered \(TextSafety.escape(record.path)) for \(TextSafety.escape(record.server)): \(record.sizeBytes) bytes, sha256 \(record.sha256)")
                case let .alreadyRegistered(record):
                    print("already registered: \(TextSafety.escape(record.path)) (server \(TextSafety.escape(record.server)), sha256 \(record.sha256))")
                }
            } catch {
                fail("\(error)")
            }
        }
    }
}
