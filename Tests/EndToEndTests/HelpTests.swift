import Foundation
import Testing

@Suite("Help")
struct HelpTests {
    static let commands = ["new", "demo", "open", "scan", "report", "check", "restore", "migrate", "server add", "server set",
                           "evidence add", "step set", "triage set", "indicators list", "indicators import", "indicators packs",
                           "indicators enable", "indicators disable", "indicators export", "export", "themes list",
                           "bench render", "bench scan"]

    @Test("every command's --help gives its exit codes and an example", arguments: commands)
    func helpHasExitCodesAndExamples(command: String) throws {
        let r = try run(incidentBinary.path, command.split(separator: " ").map(String.init) + ["--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("Exit codes:"), "\(command) --help names no exit codes")
        #expect(r.stdout.contains("Example"), "\(command) --help has no example")
        #expect(r.stdout.contains("incident \(command.split(separator: " ")[0])"), "\(command) --help example does not run the command")
    }
}
