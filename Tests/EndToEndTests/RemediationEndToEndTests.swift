import Foundation
import Testing

/// Patching is not remediation, on the real terminal.
@Suite("Remediation in tmux", .serialized, .enabled(if: tmuxAvailable, "tmux is not installed (apt-get install tmux)"))
struct RemediationEndToEndTests {
    @Test("in the demo, patching EXCH01 to a fixed build does not make it done; evicting the intruder does")
    func patchingAloneIsNotDone() throws {
        let (dir, tmux) = try openDemo("patch-not-done", cols: 100, rows: 30)
        #expect(tmux.waitFor("done 0/3"), "screen was:\n\(tmux.capture())")
        #expect(tmux.capture().split(separator: "\n").contains { $0.contains("EXCH01") && $0.contains("compromised  VC") })

        // Set the fixed build of Exchange 2016 CU18 with b.
        tmux.send("b", "C-u", "15.01.2106.013", "Enter")
        #expect(tmux.waitUntil { $0.split(separator: "\n").contains { $0.contains("EXCH01") && $0.contains("compromised  PC") } },
                "screen was:\n\(tmux.capture())")
        #expect(tmux.waitFor("[x]  9 Patch to a fixed build"))
        // Patched, still compromised: no server is done (the next key clears the message that
        // takes the status bar).
        tmux.send("C-l")
        #expect(tmux.waitFor("done 0/3"), "screen was:\n\(tmux.capture())")

        tmux.send("w")
        #expect(tmux.waitFor("Walk-through: EXCH01 1/13 done"), "screen was:\n\(tmux.capture())")
        // The walk-through's body may land a frame after its title: wait for its last line too.
        _ = tmux.waitFor("Step 1 of 13: Inventory the server")
        var screen = tmux.capture()
        #expect(screen.contains("Patch: patched — build 15.1.2106.13 ≥ fixed 15.1.2106.13"))
        #expect(screen.contains("Compromise: compromised"))
        #expect(screen.contains("Not done:"))
        #expect(screen.contains("Step 1 of 13: Inventory the server"))

        // Every other step done except the eviction ones: still not done.
        // inventory, preserve, log-coverage, test-proxylogon, msert
        for _ in 0..<5 { tmux.send("d") }
        #expect(tmux.waitFor("Walk-through: EXCH01 6/13 done"), "screen was:\n\(tmux.capture())")
        #expect(tmux.capture().contains("Step 6 of 13: Find and remove web shells"))
        #expect(tmux.capture().contains("Compromise: compromised"))

        // Evict: web shells, post-exploitation, contain; skip to credentials and rebuild; then the rest.
        for _ in 0..<8 { tmux.send("d") }
        #expect(tmux.waitFor("Walk-through: EXCH01 13/13 done"), "screen was:\n\(tmux.capture())")
        screen = tmux.capture()
        #expect(screen.contains("Compromise: remediated"))
        #expect(screen.contains("Done: patched, and remediated."))
        #expect(screen.contains("done 1/3"))
        tmux.send("Escape")
        #expect(tmux.waitUntil { $0.split(separator: "\n").contains { $0.contains("EXCH01") && $0.contains("compromised  PR") } },
                "screen was:\n\(tmux.capture())")
        tmux.send("q")
        #expect(tmux.waitFor("EXIT=0"))

        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("case.json"))) as? [String: Any])
        let checklists = try #require(object["checklists"] as? [String: [String: [String: Any]]])
        #expect(checklists["EXCH01"]?["patch"]?["by"] as? String == "incident (build 15.1.2106.13 ≥ fixed 15.1.2106.13)")
        #expect(checklists["EXCH01"]?["rebuild"]?["state"] as? String == "done")
        let servers = try #require(object["servers"] as? [[String: Any]])
        #expect(servers.first { $0["name"] as? String == "EXCH01" }?["exchangeBuild"] as? String == "15.1.2106.13")
    }
}
