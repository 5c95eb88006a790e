import Foundation
import Testing

/// The console under each terminal type responders meet, a non-UTF-8 locale, resize storms, and
/// the keys of issue 6 on the real binary.
@Suite("Terminal types and SSH-day keys in tmux", .serialized, .enabled(if: tmuxAvailable, "tmux is not installed (apt-get install tmux)"))
struct TerminalTypeTests {
    /// Opens the demo under `term`, checks the first screen, moves, opens help, quits.
    @Test("the console is correct under each TERM", arguments: [
        ("xterm-256color", true), ("screen-256color", true), ("tmux-256color", true),
        ("xterm", true), ("vt100", false), ("linux", true),
    ])
    func terminal(term: String, colour: Bool) throws {
        let dir = temporaryFolder("term-\(term)").appendingPathComponent("case")
        _ = try run(incidentBinary.path, ["demo", "--dir", dir.path, "--no-open"])
        let tmux = try TmuxSession("\(incidentBinary.path) open \(dir.path)", cols: 100, rows: 30, term: term)
        #expect(tmux.waitForServer("EXCH01", "compromised"), "TERM=\(term), screen was:\n\(tmux.capture())")
        let screen = tmux.capture()
        let lines = screen.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first?.hasPrefix("┌─ Servers (3) ● ─") == true, "TERM=\(term): first row \(lines.first ?? "")")
        #expect(screen.contains("Indicator hits: EXCH01 (69)"))
        #expect(screen.contains("│EXCH02"))
        // No stray escape-sequence debris (`[0m`, `;1H`, ACS letters like `lqqk`) on screen.
        #expect(!screen.contains("[0m") && !screen.contains(";1H") && !screen.contains("lqqq") && !screen.contains("\u{1B}"))
        // Every row fits the pane and the bottom frame row is intact.
        #expect(lines.allSatisfy { $0.count <= 100 })
        #expect(lines.contains { $0.hasPrefix("└") && $0.contains("┘") })
        let styled = tmux.captureWithAttributes()
        if colour {
            #expect(styled.contains("\u{1B}[3") || styled.contains("\u{1B}[9") || styled.contains(";3"), "TERM=\(term): no colour drawn")
        } else {
            // vt100 has no colours: attributes only, the selection still visible (reverse video).
            #expect(!styled.contains("[38;5;") && !styled.contains("\u{1B}[31m"), "TERM=\(term) drew colour")
            #expect(styled.contains("\u{1B}[7m") || styled.contains(";7m") || styled.contains("\u{1B}[1m"), "TERM=\(term): no attributes")
        }
        tmux.send("j")
        #expect(tmux.waitFor("Indicator hits: EXCH02 (5)"), "TERM=\(term): j did nothing:\n\(tmux.capture())")
        tmux.send("Tab", "Enter")
        #expect(tmux.waitFor("Around line"), "TERM=\(term): detail view:\n\(tmux.capture())")
        tmux.send("Escape", "q")
        #expect(tmux.waitFor("EXIT=0"), "TERM=\(term): screen was:\n\(tmux.capture())")
        #expect(!tmux.capture().contains("Servers ("), "TERM=\(term): the console's screen stayed after exit")
    }

    @Test("a locale that is not UTF-8 gets ASCII borders and no garbage")
    func asciiLocale() throws {
        let dir = temporaryFolder("c-locale").appendingPathComponent("case")
        _ = try run(incidentBinary.path, ["demo", "--dir", dir.path, "--no-open"])
        let tmux = try TmuxSession("\(incidentBinary.path) open \(dir.path)", env: ["LANG": "C", "LC_ALL": "C"])
        #expect(tmux.waitForServer("EXCH01", "compromised"), "screen was:\n\(tmux.capture())")
        let screen = tmux.capture()
        #expect(screen.hasPrefix("+- Servers (3) * -"), "screen was:\n\(screen)")
        #expect(screen.unicodeScalars.allSatisfy { $0.value < 0x80 }, "non-ASCII on a C-locale screen:\n\(screen)")
        tmux.send("q")
        #expect(tmux.waitFor("EXIT=0"))
    }

    @Test("a resize storm never crashes the console, and it settles on the final size")
    func resizeStorm() throws {
        let (_, tmux) = try openDemo("storm")
        var sizes: [(Int, Int)] = []
        for i in 0..<60 { sizes.append((20 + (i * 37) % 160, 5 + (i * 23) % 50)) }
        for (c, r) in sizes { tmux.resize(cols: c, rows: r) }
        tmux.resize(cols: 50, rows: 12)
        #expect(tmux.waitFor("terminal too small: have 50×12, need 60×16"), "screen was:\n\(tmux.capture())")
        tmux.resize(cols: 100, rows: 30)
        #expect(tmux.waitUntil { $0.contains("Indicator hits: EXCH01 (69)") && !$0.contains("too small") }, "screen was:\n\(tmux.capture())")
        #expect(!tmux.capture().contains("EXIT="), "the console ended during the storm")
        tmux.send("q")
        #expect(tmux.waitFor("EXIT=0"))
    }

    @Test("filter, triage with a note and a confirmation, undo, theme switch: the case file records them")
    func keys() throws {
        let (dir, tmux) = try openDemo("keys")
        tmux.send("/", "p", "r", "o", "b", "e", "d", "Enter")
        #expect(tmux.waitFor("Servers (1/3) /probed"), "screen was:\n\(tmux.capture())")
        tmux.send("Tab", "f")
        #expect(tmux.waitFor("false positive IIS-059, note:"), "screen was:\n\(tmux.capture())")
        tmux.send("o", "u", "r", " ", "s", "c", "a", "n", "n", "e", "r", "Enter")
        #expect(tmux.waitFor("Mark as false positive?"), "screen was:\n\(tmux.capture())")
        tmux.send("Enter")
        #expect(tmux.waitFor("cancelled"))
        tmux.send("f", "Enter")
        #expect(tmux.waitFor("Mark as false positive?"))
        tmux.send("y")
        #expect(tmux.waitFor("marked false positive (u undoes)"), "screen was:\n\(tmux.capture())")
        tmux.send("u")
        #expect(tmux.waitFor("Undo the last change?"))
        tmux.send("y")
        #expect(tmux.waitFor("undone: IIS-059 on EXCH02"), "screen was:\n\(tmux.capture())")
        tmux.send("t")
        #expect(tmux.waitFor("theme: high-contrast"), "screen was:\n\(tmux.capture())")
        tmux.send("q")
        #expect(tmux.waitFor("EXIT=0"))
        let json = try Data(contentsOf: dir.appendingPathComponent("case.json"))
        let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        let triage = try #require(object["triage"] as? [[String: Any]])
        #expect(triage.map { $0["decision"] as? String } == ["false-positive", "untriaged"])
        // The first note went with the cancelled attempt; the second was left empty.
        #expect(triage.map { $0["note"] as? String } == ["", "undo"])
        let audit = try #require(object["audit"] as? [[String: Any]]).filter { $0["action"] as? String == "triage" }
        #expect(audit.map { $0["after"] as? String } == ["false-positive", "untriaged"])
    }

    @Test("a broken theme file opens the console with the default theme and says where it is broken; t changes colours live")
    func brokenTheme() throws {
        let home = temporaryFolder("broken-theme")
        let dir = home.appendingPathComponent("incident/themes")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data("{\n  \"roles\": {\n    \"muted\": { \"fg\": \"mauve\" }\n  }\n}\n".utf8).write(to: dir.appendingPathComponent("mine.json"))
        let caseDir = temporaryFolder("broken-theme-case").appendingPathComponent("case")
        _ = try run(incidentBinary.path, ["demo", "--dir", caseDir.path, "--no-open"])
        let tmux = try TmuxSession("\(incidentBinary.path) open \(caseDir.path) --theme mine", cols: 160, rows: 30, env: ["XDG_CONFIG_HOME": home.path])
        #expect(tmux.waitFor("mine.json:3:22: fg must be default, a colour name or #rrggbb; using default"), "screen was:\n\(tmux.capture())")
        #expect(tmux.waitForServer("EXCH01", "compromised"))
        let before = tmux.captureWithAttributes()
        tmux.send("t")
        #expect(tmux.waitFor("theme: high-contrast"))
        #expect(tmux.waitUntil { _ in tmux.captureWithAttributes() != before }, "the colours did not change")
        tmux.send("q")
        #expect(tmux.waitFor("EXIT=0"))
    }

    @Test("incident themes list names the four shipped themes")
    func themesList() throws {
        let home = temporaryFolder("themes")
        let r = try run(incidentBinary.path, ["themes", "list"], environment: ["XDG_CONFIG_HOME": home.path, "PATH": "/usr/bin:/bin"])
        #expect(r.status == 0)
        let names = r.stdout.split(separator: "\n").map { $0.split(separator: "\t").first.map(String.init) ?? "" }
        #expect(names == ["default", "high-contrast", "light", "monochrome"])
        #expect(r.stdout.contains("light\tshipped\tFor light terminal backgrounds"))
        let dir = home.appendingPathComponent("incident/themes")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data("{\"roles\": {\"bogus\": {}}}".utf8).write(to: dir.appendingPathComponent("mine.json"))
        let broken = try run(incidentBinary.path, ["themes", "list"], environment: ["XDG_CONFIG_HOME": home.path, "PATH": "/usr/bin:/bin"])
        #expect(broken.status == 2)
        #expect(broken.stdout.contains("mine\tuser file \(dir.path)/mine.json\tBROKEN: \(dir.path)/mine.json:1:21: unknown role \"bogus\""))
    }
}
