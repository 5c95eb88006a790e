import Foundation
import Testing

/// The repository root, found from this file's path.
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The corpus of real public files beside the repository (absent in a clone elsewhere).
let corpus = repoRoot.deletingLastPathComponent().appendingPathComponent("shared/corpus")
let corpusAvailable = FileManager.default.fileExists(atPath: corpus.path)

/// The `incident` binary built next to the test bundle (`swift test` builds it).
let incidentBinary: URL = {
    let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("incident")
    if FileManager.default.isExecutableFile(atPath: besideTests.path) { return besideTests }
    return repoRoot.appendingPathComponent(".build/debug/incident")
}()

let tmuxAvailable: Bool = {
    ["/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"].contains { FileManager.default.isExecutableFile(atPath: $0) }
}()

/// Runs a program (looked up on PATH) and returns its exit status and output.
///
/// Uses posix_spawn and waitpid directly: Foundation's Process can miss the exit of a program
/// that leaves a daemon behind (tmux new-session), and a daemon holding an output pipe would
/// block a reader forever, so `captureOutput: false` sends output to /dev/null.
@discardableResult
func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, captureOutput: Bool = true) throws -> (status: Int32, stdout: String, stderr: String) {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    var outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    if captureOutput {
        guard pipe(&outPipe) == 0, pipe(&errPipe) == 0 else { throw SpawnError.failed("pipe") }
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        for fd in outPipe + errPipe { posix_spawn_file_actions_addclose(&actions, fd) }
    } else {
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    }
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    let env = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { env.forEach { free($0) } }
    // The test runner's threads block some signals, and a spawned child inherits the mask: reset
    // it, or the console under test (inside tmux) would never see SIGTERM, SIGHUP or SIGWINCH.
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var empty = sigset_t()
    sigemptyset(&empty)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for s in [SIGINT, SIGTERM, SIGHUP, SIGWINCH, SIGPIPE, SIGCHLD] { sigaddset(&defaults, s) }
    posix_spawnattr_setsigmask(&attributes, &empty)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var pid: pid_t = 0
    let rc = posix_spawnp(&pid, executable, &actions, &attributes, argv, env)
    if captureOutput { close(outPipe[1]); close(errPipe[1]) }
    guard rc == 0 else {
        if captureOutput { close(outPipe[0]); close(errPipe[0]) }
        throw SpawnError.failed("\(executable): \(String(cString: strerror(rc)))")
    }
    var out = Data(), err = Data()
    if captureOutput {
        // Read both pipes on two threads so neither can fill up and stall the child.
        let group = DispatchGroup()
        let errFD = errPipe[0]
        nonisolated(unsafe) var errData = Data()
        group.enter()
        Thread.detachNewThread {
            errData = FileHandle(fileDescriptor: errFD, closeOnDealloc: true).readDataToEndOfFile()
            group.leave()
        }
        out = FileHandle(fileDescriptor: outPipe[0], closeOnDealloc: true).readDataToEndOfFile()
        group.wait()
        err = errData
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let code: Int32 = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    return (code, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
}

enum SpawnError: Error { case failed(String) }

/// A private tmux server running one command in a detached session, for driving the real
/// binary with keys and reading its screen.
final class TmuxSession {
    let socket = "incident-e2e-\(UUID().uuidString.prefix(8))"
    let marker: String

    /// Starts `command` in a `cols`×`rows` window. When the command ends the pane shows
    /// `EXIT=<status>` and stays open.
    init(_ command: String, cols: Int = 80, rows: Int = 24, term: String = "screen-256color", env: [String: String] = [:]) throws {
        marker = "EXIT="
        // tmux sets TERM in its panes itself, so the terminal type is set on the command.
        var assignments = ["TERM=\(term)", "LANG=C.UTF-8", "LC_ALL=C.UTF-8"]
        for (k, v) in env.sorted(by: { $0.key < $1.key }) { assignments.append("\(k)=\(v)") }
        let args = ["-L", socket, "-f", "/dev/null", "new-session", "-d", "-s", "main", "-x", "\(cols)", "-y", "\(rows)",
                    "env \(assignments.joined(separator: " ")) \(command); echo EXIT=$?; sleep 120"]
        let r = try run("tmux", args, captureOutput: false)
        guard r.status == 0 else { throw TmuxError.failed("tmux new-session exited \(r.status)") }
        _ = try? run("tmux", ["-L", socket, "set-option", "-t", "main", "status", "off"])
        _ = try? run("tmux", ["-L", socket, "set-option", "-s", "escape-time", "10"])
    }

    deinit {
        _ = try? run("tmux", ["-L", socket, "kill-server"])
    }

    enum TmuxError: Error { case failed(String) }

    /// Sends tmux key names (`j`, `Tab`, `BTab`, `Enter`, `Escape`, `Space`, `C-l`).
    func send(_ keys: String...) {
        for k in keys { _ = try? run("tmux", ["-L", socket, "send-keys", "-t", "main", k]) }
    }

    /// The screen as text.
    func capture() -> String {
        (try? run("tmux", ["-L", socket, "capture-pane", "-p", "-t", "main"]).stdout) ?? ""
    }

    /// The screen with attributes as escape sequences.
    func captureWithAttributes() -> String {
        (try? run("tmux", ["-L", socket, "capture-pane", "-p", "-e", "-t", "main"]).stdout) ?? ""
    }

    func resize(cols: Int, rows: Int) {
        _ = try? run("tmux", ["-L", socket, "resize-window", "-t", "main", "-x", "\(cols)", "-y", "\(rows)"])
    }

    /// Polls the screen until it contains `text` (or `timeout` seconds pass).
    @discardableResult
    func waitFor(_ text: String, timeout: Double = 15) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if capture().contains(text) { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return false
    }

    /// Polls until one screen row shows both the server name and the verdict.
    @discardableResult
    func waitForServer(_ name: String, _ verdict: String, timeout: Double = 15) -> Bool {
        waitUntil(timeout: timeout) { screen in
            screen.split(separator: "\n").contains { $0.contains(name + " ") && $0.contains(" " + verdict + " ") }
        }
    }

    /// Polls until `predicate` holds for the screen.
    @discardableResult
    func waitUntil(timeout: Double = 15, _ predicate: (String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if predicate(capture()) { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return false
    }
}

/// A fresh temporary folder.
func temporaryFolder(_ name: String) -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("incident-e2e-\(name)-\(UUID().uuidString.prefix(8))")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The pid of the running `incident` (not the shell around it) whose command line mentions `needle`.
func incidentPID(matching needle: String) -> Int32? {
    guard let r = try? run("pgrep", ["-f", "^\(incidentBinary.path) (open|demo) .*\(needle)"]) else { return nil }
    return r.stdout.split(separator: "\n").first.flatMap { Int32($0) }
}
