import Crypto

/// SHA-256 helpers over swift-crypto.
public enum SHA256Hex {
    /// Lowercase hex SHA-256 of the bytes.
    public static func digest(_ bytes: [UInt8]) -> String {
        hex(SHA256.hash(data: bytes))
    }

    /// Lowercase hex of a finished digest.
    public static func hex(_ digest: SHA256.Digest) -> String {
        var out = ""
        out.reserveCapacity(64)
        for byte in digest {
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0xF)])
        }
        return out
    }

    private static let hexDigits = Array("0123456789abcdef")
}
