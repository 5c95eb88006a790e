import Foundation

/// Exchange builds that evidence lines reveal, reduced to the CU level.
///
/// Sources (``../shared/knowledge/proxylogon.md`` §3.3): the `#Version:` directive of Exchange
/// logs (`#Version: 15.01.2106.002`), the HttpProxy columns `MajorVersion`, `MinorVersion`,
/// `BuildVersion`, the ECP Server log's `S:BLD` pair, and version folders in request paths (`/owa/auth/15.1.2176/…`,
/// `/ecp/15.1.2176.2/…`). In public samples these stay at the CU's build after a security update
/// is installed, so the revision is dropped: such a build can show a CU unpatched (one without a
/// fix) but never that an SU is installed.
public enum BuildEvidence {
    /// The CU-level build a line shows, if any. The scanner asks for every `#Version:` line, and
    /// for records only until a file has shown a build (so the cost is a few lookups per file).
    public static func cuBuild(line raw: String, record: LogRecord?) -> ExchangeBuild? {
        if raw.hasPrefix("#Version:") {
            return cuLevel(ExchangeBuild(parsing: String(raw.dropFirst(9))))
        }
        guard let record else { return nil }
        if let major = record.value(lowercased: "majorversion"), let minor = record.value(lowercased: "minorversion"),
           let build = record.value(lowercased: "buildversion"),
           let b = ExchangeBuild(parsing: "\(major).\(minor).\(build)"), b.build > 0 {
            return b
        }
        // ECP Server log `EventData` pair `S:BLD=15.1.2106.2` (the ECP log's own `#Version:` is 15.0.0.0).
        if let bld = record.value(lowercased: "s:bld"), let b = cuLevel(ExchangeBuild(parsing: bld)) { return b }
        if let stem = record.value(lowercased: "url-stem"), stem.contains("/1") {
            for part in stem.split(separator: "/").prefix(4) where part.hasPrefix("15.") || part.hasPrefix("14.") {
                if let b = cuLevel(ExchangeBuild(parsing: String(part))) { return b }
            }
        }
        return nil
    }

    /// Whether records under this header can show a build from their columns alone
    /// (`MajorVersion`, `MinorVersion` and `BuildVersion`, or `S:BLD`), whatever the request path.
    static func hasBuildColumns(_ schema: FieldSchema) -> Bool {
        ["majorversion", "minorversion", "buildversion"].allSatisfy { schema.index[$0] != nil } || schema.index["s:bld"] != nil
    }

    private static func cuLevel(_ b: ExchangeBuild?) -> ExchangeBuild? {
        guard let b, b.build > 0 else { return nil }
        return ExchangeBuild(b.major, b.minor, b.build)
    }
}
