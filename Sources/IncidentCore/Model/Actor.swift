import Foundation

/// Who is acting: the OS user, plus the SSH client address when the session came over SSH.
public enum Responder {
    /// `user` or `user via 203.0.113.7` (from `SSH_CLIENT`), read from the environment.
    public static func current(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        var user = environment["USER"] ?? environment["LOGNAME"] ?? ""
        if user.isEmpty, let pw = getpwuid(getuid()), let name = pw.pointee.pw_name { user = String(cString: name) }
        if user.isEmpty { user = "uid \(getuid())" }
        if let ssh = environment["SSH_CLIENT"], let address = ssh.split(separator: " ").first, !address.isEmpty {
            return "\(user) via \(address)"
        }
        return user
    }
}
