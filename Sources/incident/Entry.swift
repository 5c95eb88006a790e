import ArgumentParser
import Foundation

/// `incident`: the command line. Exit codes: 0 success (and, for `scan`, nothing at or above
/// `--fail-on`); 1 `scan` found hits at or above `--fail-on`; 2 any error (bad arguments,
/// unreadable or malformed case file, unusable terminal).
@main
struct Incident: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incident",
        abstract: "Incident Console: work a ProxyLogon / HAFNIUM Exchange compromise from the terminal.",
        discussion: """
        Exit codes: 0 success; 1 `scan` found hits at or above --fail-on (`check`: warnings only); 2 error (for `scan` also: results incomplete or evidence altered).

        Examples:
          incident demo                      (opens a copy of the bundled demo case)
          incident new ./case-2021-03 --name "Contoso Exchange"
          incident open ./case-2021-03       (evidence: ./case-2021-03/evidence/NAME/)
          incident scan ./case-2021-03 --format json
          incident server set ./case-2021-03 EXCH01 --build 15.1.2176.9
        """,
        subcommands: [OpenCommand.self, DemoCommand.self, NewCommand.self, ScanCommand.self, ServerCommand.self,
                      IndicatorsCommand.self, ExportCommand.self, ReportCommand.self,
                      ThemesCommand.self, BenchCommand.self, EvidenceCommand.self,
                      StepCommand.self, TriageCommand.self, CheckCommand.self, RestoreCommand.self, MigrateCommand.self]

    )

    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success || code == .failure || code.rawValue == 2 {
                exit(withError: error)
            }
            // Usage errors: print ArgumentParser's message but exit 2, as documented.
            let message = fullMessage(for: error)
            FileHandle.standardError.write(Data((message + "\n").utf8))
            Foundation.exit(2)
        }
    }
}

/// Prints an error to standard error and exits with code 2.
func fail(_ message: String) -> Never {
    // Messages can quote the user's files (JSON keys, paths): escape control characters.
    // Line breaks of the message itself are kept; every other control character is escaped.
    let safe = message.split(separator: "\n", omittingEmptySubsequences: false).map { TextSafety.escape(String($0)) }.joined(separator: "\n")
    FileHandle.standardError.write(Data(("incident: " + safe + "\n").utf8))
    Foundation.exit(2)
}
