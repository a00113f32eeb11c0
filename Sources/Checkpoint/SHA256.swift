import CLibcrypto
import Foundation

/// SHA-256, fed in pieces or all at once, from the system's OpenSSL libcrypto (EVP digest API).
///
/// Why libcrypto: checkpoints need this one hash (`SHA256SUMS`, shard and manifest checksums,
/// run fingerprints). swift-crypto, used before, compiled its own copy of BoringSSL in every
/// fresh build; libcrypto comes with every Linux server (`libssl-dev` adds the headers, as
/// `scripts/setup.sh` installs them) and is the implementation `sha256sum`'s peers use.
///
/// A hasher belongs to one thread at a time; `finalize` ends it.
final class SHA256 {
    /// The digest's length in bytes.
    static let byteCount = 32

    private let context: OpaquePointer
    private var finished = false

    init() {
        guard let context = EVP_MD_CTX_new() else { fatalError("libcrypto: no memory for a SHA-256 context") }
        self.context = context
        guard EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
            fatalError("libcrypto: SHA-256 initialization failed")
        }
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Hashes `bytes` after those given before.
    func update(_ bytes: UnsafeRawBufferPointer) {
        precondition(!finished, "SHA256.update after finalize")
        // An empty buffer may have no base address; it changes nothing.
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        guard EVP_DigestUpdate(context, base, bytes.count) == 1 else { fatalError("libcrypto: SHA-256 update failed") }
    }

    /// The digest of everything given, as lower-case hex (the `sha256sum` format). Call once.
    func finalize() -> String {
        precondition(!finished, "SHA256.finalize called twice")
        finished = true
        var digest = [UInt8](repeating: 0, count: Self.byteCount)
        var size: UInt32 = 0
        guard EVP_DigestFinal_ex(context, &digest, &size) == 1, size == Self.byteCount else {
            fatalError("libcrypto: SHA-256 finalization failed")
        }
        return Self.hex(digest)
    }

    /// Lower-case hex SHA-256 of `bytes`.
    static func hex(of bytes: UnsafeRawBufferPointer) -> String {
        let hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// Lower-case hex SHA-256 of `data`.
    static func hex(of data: Data) -> String {
        data.withUnsafeBytes { hex(of: $0) }
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(2 * bytes.count)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 15)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
