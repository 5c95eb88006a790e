import Foundation

extension Responder {
    /// Where this session runs, for chain of custody: the host name, plus ` via <ip>` when the
    /// session came over SSH (first word of `SSH_CLIENT`), e.g. `jump01 via 203.0.113.7`.
    public static func origin(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        var host = gethostname(&buffer, buffer.count) == 0 ? String(cString: buffer) : ""
        if host.isEmpty { host = "unknown host" }
        if let ssh = environment["SSH_CLIENT"], let address = ssh.split(separator: " ").first, !address.isEmpty {
            return "\(host) via \(address)"
        }
        return host
    }
}
