import Foundation
import Testing

/// A fresh copy of the demo case opened in tmux, once the compromised server is on screen.
func openDemo(_ name: String, env: [String: String] = [:], cols: Int = 80, rows: Int = 24) throws -> (URL, TmuxSession) {
    let dir = temporaryFolder(name).appendingPathComponent("case")
    _ = try run(incidentBinary.path, ["demo", "--dir", dir.path, "--no-open"])
    let tmux = try TmuxSession("\(incidentBinary.path) open \(dir.path)", cols: cols, rows: rows, env: env)
    #expect(tmux.waitForServer("EXCH01", "compromised"), "screen was:\n\(tmux.capture())")
    return (dir, tmux)
}

/// Drives the real `incident` binary inside tmux: keys in, screen out.
@Suite("Console in tmux", .serialized, .enabled(if: tmuxAvailable, "tmux is not installed (apt-get install tmux)"))
struct ConsoleEndToEndTests {
    @Test("the demo opens at 80×24 with hits on the compromised server, keys work, q restores the terminal",
          arguments: ["screen-256color", "xterm-256color"])
    func demo(term: String) throws {
        let dir = temporaryFolder("demo").appendingPathComponent("case")
        let tmux = try TmuxSession("\(incidentBinary.path) demo --dir \(dir.path)", term: term)
        #expect(tmux.waitForServer("EXCH01", "compromised"), "screen was:\n\(tmux.capture())")
        let screen = tmux.capture()
        #expect(screen.contains("Indicator hits: EXCH01 (69)"))
        #expect(screen.split(separator: "\n").contains { $0.contains("EXCH02") && $0.contains("probed") })
        #expect(screen.split(separator: "\n").contains { $0.contains("EXCH03") && $0.contains("insufficient") })
        #expect(screen.contains("CRIT"))
        #expect(screen.split(separator: "\n").count <= 24)

        tmux.send("j")
        #expect(tmux.waitFor("Indicator hits: EXCH02 (5)"))
        tmux.send("Tab", "Enter")
        #expect(tmux.waitFor("Detail (Enter or Esc to close)"))
        tmux.send("Escape")
        #expect(tmux.waitUntil { !$0.contains("Detail (Enter or Esc to close)") })
        tmux.send("?")
        #expect(tmux.waitFor("Keys (? or Esc to close)"))
        tmux.send("?")
        #expect(tmux.waitUntil { !$0.contains("Keys (? or Esc to close)") })
        tmux.send("q")
        #expect(tmux.waitFor("EXIT=0"))
        let after = tmux.capture()
        #expect(!after.contains("Servers ("), "the console's screen stayed after exit:\n\(after)")
        #expect(after.contains("demo case copied to \(dir.path)"))
    }

    @Test("Space advances a checklist step and the case file on disk records it")
    func checklistStep() throws {
        let (dir, tmux) = try openDemo("step")
        tmux.send("BTab", "Space")
        #expect(tmux.waitFor("[~]  1 Inventory the server"), "screen was:\n\(tmux.capture())")
        tmux.send("Space")
        #expect(tmux.waitFor("[x]  1 Inventory the server"))
        #expect(tmux.waitFor("steps 1/38"))
        tmux.send("q")
        #expect(tmux.waitFor("EXIT=0"))
        let json = try String(contentsOf: dir.appendingPathComponent("case.json"), encoding: .utf8)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let checklists = try #require(object["checklists"] as? [String: [String: [String: Any]]])
        #expect(checklists["EXCH01"]?["inventory"]?["state"] as? String == "done")
        let audit = try #require(object["audit"] as? [[String: Any]])
        let steps = audit.filter { $0["action"] as? String == "checklist.step" }
        #expect(steps.count == 2)
        #expect(steps.last?["before"] as? String == "in-progress")
        #expect(steps.last?["after"] as? String == "done")
    }

    @Test("corpus files dropped into a case while it is open show ProxyShell hits within seconds",
          .enabled(if: corpusAvailable, "../shared/corpus is not present"))
    func liveDrop() throws {
        let dir = temporaryFolder("live").appendingPathComponent("case")
        _ = try run(incidentBinary.path, ["new", dir.path, "--name", "Live drop"])
        let tmux = try TmuxSession("\(incidentBinary.path) open \(dir.path) --interval 1", cols: 120, rows: 30)
        #expect(tmux.waitFor("No servers yet"))
        let target = dir.appendingPathComponent("evidence/EXCH09/iis/W3SVC1")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        let started = Date()
        try FileManager.default.copyItem(at: corpus.appendingPathComponent("velociraptor/iis.log"), to: target.appendingPathComponent("u_ex211009.log"))
        try FileManager.default.copyItem(at: corpus.appendingPathComponent("aptsimulator/hafnium-dummy.log"), to: target.appendingPathComponent("u_ex210823.log"))
        #expect(tmux.waitUntil(timeout: 10) { $0.contains("Indicator hits: EXCH09 (3)") }, "screen was:\n\(tmux.capture())")
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed < 6, "took \(elapsed) s")
        let screen = tmux.capture()
        // Two ProxyShell hits (one per file), the injection probe, and nothing for the AMProbe lines.
        #expect(screen.split(separator: "\n").contains { $0.contains("EXCH09") && $0.contains("exploited") }, "screen was:\n\(screen)")
        #expect(screen.split(separator: "\n").filter { $0.contains("PS-001") && $0.contains("exploitation") && $0.contains("CRIT") }.count == 2)
        #expect(screen.contains("WEB-001"))
        #expect(!screen.contains("AMProbe"))
        // The injection-laden user agent, in the detail view, stays inert text.
        tmux.send("Tab", "G", "Enter")
        #expect(tmux.waitFor("xmltype('<?xml+version=\"1.0\""), "screen was:\n\(tmux.capture())")
        tmux.send("Escape", "q")
        #expect(tmux.waitFor("EXIT=0"))
    }

    @Test("a hostile user agent is shown escaped on the real terminal")
    func hostileUserAgent() throws {
        let dir = temporaryFolder("hostile").appendingPathComponent("case")
        _ = try run(incidentBinary.path, ["new", dir.path, "--name", "Hostile"])
        let logs = dir.appendingPathComponent("evidence/EXCH07/iis")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        var bytes = Array("#Software: Microsoft Internet Information Services 10.0\r\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\r\n".utf8)
        bytes += Array("2021-03-03 07:21:09 10.0.0.21 GET /aspnet_client/discover.aspx - 443 - 5.254.43.18 Mozilla/5.0+".utf8)
        bytes += [0x1B] + Array("[2J".utf8) + [0x1B] + Array("]0;pwned".utf8) + [0x07] + Array("+".utf8) + [0xE2, 0x80, 0xAE] + Array("exe.txt - 200 0 0 15\r\n".utf8)
        try Data(bytes).write(to: logs.appendingPathComponent("u_ex210303.log"))
        let tmux = try TmuxSession("\(incidentBinary.path) open \(dir.path)", cols: 120, rows: 30)
        #expect(tmux.waitUntil { $0.split(separator: "\n").contains { $0.contains("EXCH07") && $0.contains("compromised") } }, "screen was:\n\(tmux.capture())")
        tmux.send("Tab", "Enter")
        #expect(tmux.waitFor("␛[2J␛]0;pwned␇+<U+202E>exe.txt"), "screen was:\n\(tmux.capture())")
        let title = try run("tmux", ["-L", tmux.socket, "display-message", "-p", "-t", "main", "#{pane_title}"]).stdout
        #expect(!title.contains("pwned"))
        tmux.send("q", "q")
        #expect(tmux.waitFor("EXIT=0"))
    }

    @Test("resize below the minimum says so and recovers")
    func resize() throws {
        let (_, tmux) = try openDemo("resize")
        tmux.resize(cols: 50, rows: 12)
        #expect(tmux.waitFor("terminal too small: have 50×12, need 60×16"), "screen was:\n\(tmux.capture())")
        for (c, r) in [(70, 20), (40, 8), (100, 30), (61, 17), (80, 24)] { tmux.resize(cols: c, rows: r) }
        #expect(tmux.waitForServer("EXCH01", "compromised"))
        tmux.send("q")
        #expect(tmux.waitFor("EXIT=0"))
    }

    @Test("SIGTERM, SIGHUP and SIGINT restore the terminal", arguments: [("TERM", Int32(15)), ("HUP", 1), ("INT", 2)])
    func signals(name: String, number: Int32) throws {
        let dir = temporaryFolder("sig\(name)").appendingPathComponent("case")
        _ = try run(incidentBinary.path, ["demo", "--dir", dir.path, "--no-open"])
        let tmux = try TmuxSession("\(incidentBinary.path) open \(dir.path)")
        #expect(tmux.waitForServer("EXCH01", "compromised"))
        let pid = try #require(incidentPID(matching: dir.path))
        kill(pid, number)
        #expect(tmux.waitFor("EXIT=\(128 + number)"), "screen was:\n\(tmux.capture())")
        #expect(!tmux.capture().contains("Servers ("))
    }

    @Test("TERM=dumb gets a clear message and exit 2, not a garbled screen")
    func dumbTerminal() throws {
        let dir = temporaryFolder("dumb").appendingPathComponent("case")
        _ = try run(incidentBinary.path, ["demo", "--dir", dir.path, "--no-open"])
        let tmux = try TmuxSession("\(incidentBinary.path) open \(dir.path)", term: "dumb")
        #expect(tmux.waitFor("EXIT=2"))
        #expect(tmux.capture().contains("cannot move the cursor"))
    }

    @Test("NO_COLOR and --theme monochrome run without colour")
    func noColor() throws {
        let (_, tmux) = try openDemo("nocolor", env: ["NO_COLOR": "1"])
        let screen = tmux.captureWithAttributes()
        #expect(!screen.contains("[38;5;"), "a 256-colour foreground was drawn under NO_COLOR")
        #expect(!screen.contains("[31m"))
        tmux.send("q")
        #expect(tmux.waitFor("EXIT=0"))
    }
}
