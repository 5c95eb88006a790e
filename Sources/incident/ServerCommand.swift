import ArgumentParser
import Foundation
import IncidentCore

/// `incident server set|add`: record a server's build, FQDN, role, exposure and patch date.
struct ServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Record facts about a server: Exchange build, FQDN, role, internet exposure, first exposure, patch and mitigation dates.",
        subcommands: [ServerSetCommand.self, ServerAddCommand.self]
    )
}

/// The facts both subcommands accept.
struct ServerFieldOptions: ParsableArguments {
    @Option(help: "Exchange build as ExSetup.exe reports it, e.g. 15.1.2176.9 or 15.01.2176.009.")
    var build: String?

    @Option(help: "Fully qualified domain name, e.g. exch01.corp.example.")
    var fqdn: String?

    @Option(help: "Role, e.g. Mailbox, ClientAccess, Edge.")
    var role: String?

    @Option(help: "Whether OWA/ECP were reachable from the internet: yes or no.")
    var internetFacing: YesNo?

    @Option(help: "When the server was first exposed (UTC): 2021-02-15 or 2021-02-15T08:00:00Z. Its logs must reach back this far; default: the case's exposure start (2021-01-01).")
    var firstExposure: String?

    @Option(help: "When a fixed build was installed (UTC): 2021-03-06 or 2021-03-06T22:10:00Z. Ends the exposure window.")
    var patchedOn: String?

    @Option(help: "When the interim mitigation (EOMT, the URL rewrite rule) was applied (UTC): 2021-03-08 or 2021-03-08T09:00:00Z. Ends the exposure window if earlier than the patch; without it, the time the interim-mitigation step was marked done stands in.")
    var mitigatedOn: String?

    @Option(help: "Whether this server generates the offline address book (holds the OAB generation mailbox; only it writes OAB generator logs): yes or no. With no, the cve-2021-26858 check is not required for it.")
    var generatesOab: YesNo?

    enum YesNo: String, ExpressibleByArgument, CaseIterable {
        case yes, no
    }

    /// The changes, or a validation error naming the option.
    func changes() throws -> ServerChanges {
        func date(_ text: String?, _ option: String) throws -> Date? {
            guard let text else { return nil }
            if let d = Timestamps.parse(text) ?? Timestamps.parse(text + "T00:00:00Z") { return d }
            throw ValidationError("--\(option): \"\(text)\" is not a date: use 2021-03-06 or 2021-03-06T22:10:00Z (UTC)")
        }
        if let build {
            guard let parsed = ExchangeBuild(parsing: build), parsed.revision != nil else {
                throw ValidationError("--build: \(ServerEditError.invalidBuild(build))")
            }
            if let reason = BuildTable.notInTableReason(parsed) { throw ValidationError("--build: \(ServerEditError.buildNotInTable(reason))") }
        }
        return ServerChanges(build: build, fqdn: fqdn, role: role, internetFacing: internetFacing.map { $0 == .yes },
                             firstExposure: try date(firstExposure, "first-exposure"), patchedOn: try date(patchedOn, "patched-on"),
                             mitigatedOn: try date(mitigatedOn, "mitigated-on"), generatesOAB: generatesOab.map { $0 == .yes })
    }
}

/// Applies server changes to a case under its lock and prints what the patch state now is.
enum ServerUpdate {
    static func run(casePath: String, name: String, fields: ServerFieldOptions, create: Bool) throws {
        let changes = try fields.changes()
        let store = CaseStore(path: casePath)
        let playbook: Playbook
        do { playbook = try Playbook.forCase(folder: store.folder) } catch { fail("\(error)") }
        let who = Responder.current()
        var result: CaseFile?
        var changed = false
        do {
            try store.withLock {
                var caseFile = try store.loadCurrent()
                // A server whose evidence folder is already there but which no scan has recorded
                // yet is created by `set` too.
                var isDir: ObjCBool = false
                let hasFolder = FileManager.default.fileExists(atPath: store.folder.appendingPathComponent("evidence/\(name)").path, isDirectory: &isDir) && isDir.boolValue
                let createNow = create || (caseFile.server(named: name) == nil && hasFolder && CaseFile.validServerName(name))
                changed = try caseFile.applyServerChanges(changes, server: name, create: createNow, by: who, at: Date())
                // The build can complete (or reopen) the patch step at once; hits wait for the next scan.
                if Remediation.reconcile(&caseFile, hits: nil, playbook: playbook, at: Date()) { changed = true }
                if changed { try store.save(caseFile) }
                result = caseFile
            }
        } catch {
            fail("\(error)")
        }
        guard let caseFile = result, let server = caseFile.server(named: name) else { fail("no server \(name)") }
        let (state, reason) = Remediation.patchState(server: server, caseFile: caseFile)
        let safeName = TextSafety.escape(server.name)
        print(changed ? "\(safeName): saved" : "\(safeName): nothing changed")
        print("\(safeName): patch state \(state.rawValue) (\(TextSafety.escape(reason)))")
        if let entry = caseFile.checklists[server.name]?[Remediation.patchStep], entry.by.hasPrefix(Remediation.automaticActor + " (") {
            print("\(safeName): patch step \(entry.state.rawValue), by \(TextSafety.escape(entry.by))")
        }
        let start = Remediation.exposureWindowStart(for: server, in: caseFile)
        let end = Remediation.exposureWindowEnd(for: server, in: caseFile).map { "until " + Timestamps.iso8601($0) } ?? "still open"
        print("\(safeName): exposure window from \(Timestamps.iso8601(start)), \(end); its logs must reach back to the start")
        if let oab = server.generatesOAB {
            print("\(safeName): generates the offline address book: \(oab ? "yes" : "no (cve-2021-26858 is not required unless its OAB generator logs are in the evidence)")")
        }
    }
}

struct ServerSetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Change a server's recorded facts (each change goes to the audit trail).",
        discussion: """
        A build at or above the fixed build of its CU marks the checklist's patch step done, by "incident (build … ≥ fixed …)". Patching never clears a compromised server. A build the build table does not have (above the newest CU it lists for its version, such as a mistyped 15.1.22424.4, or between its CUs) is refused: read it again from ExSetup.exe.

        Exit codes: 0 saved (or nothing to change); 2 error (bad arguments or values, no such server, a case that cannot be written); nothing is written on error.

        Examples:
          incident server set ./case-2021-03 EXCH01 --build 15.1.2176.9 --patched-on 2021-03-06
          incident server set ./case-2021-03 EXCH02 --internet-facing no --first-exposure 2021-02-15
          incident server set ./case-2021-03 EXCH03 --mitigated-on 2021-03-08T09:00:00Z
        """
    )

    @Argument(help: "The case folder, or its case.json.")
    var casePath: String

    @Argument(help: "The server name (as its evidence folder evidence/NAME/).")
    var name: String

    @OptionGroup var fields: ServerFieldOptions

    func validate() throws {
        if try fields.changes().isEmpty { throw ValidationError("nothing to set: give at least one of --build, --fqdn, --role, --internet-facing, --first-exposure, --patched-on, --mitigated-on, --generates-oab") }
    }

    func run() throws {
        try ServerUpdate.run(casePath: casePath, name: name, fields: fields, create: false)
    }
}

struct ServerAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a server to the case before its evidence arrives.",
        discussion: """
        Exit codes: 0 added; 2 error (the server exists, a bad name or value, a case that cannot be written).

        Example:
          incident server add ./case-2021-03 EXCH04 --build 15.2.792.10 --fqdn exch04.corp.example --internet-facing yes
        """
    )

    @Argument(help: "The case folder, or its case.json.")
    var casePath: String

    @Argument(help: "The server name: letters, digits, '-', '_' and '.'; its evidence goes under evidence/NAME/.")
    var name: String

    @OptionGroup var fields: ServerFieldOptions

    func validate() throws {
        _ = try fields.changes()
    }

    func run() throws {
        try ServerUpdate.run(casePath: casePath, name: name, fields: fields, create: true)
    }
}
