import Foundation
import Testing
@testable import Checkpoint

/// SHA-256 (libcrypto) against known digests: FIPS 180-2's vectors, and a 2 MiB input fed in
/// uneven pieces as the checkpoint writer and reader feed shards (digest from Python's hashlib).
@Suite struct SHA256Tests {
    @Test func knownVectors() {
        #expect(sha256Hex(Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(sha256Hex(Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(sha256Hex(Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(million.withUnsafeBytes { Checkpoint.sha256(of: $0) }
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// 2 MiB + 3 bytes (byte i = i mod 251) in pieces of 0, 1, 63, 64, 65, 4097 bytes and then
    /// 1 MiB pieces: the same digest as all at once, and as hashlib's.
    @Test func streamedInPiecesEqualsAllAtOnce() {
        let bytes = (0 ..< (2 << 20) + 3).map { UInt8($0 % 251) }
        let expected = "9d5bd11e1a0db7e737b58c7b3c0eaabeab2d7adb4b328b455607f2c50ad029d2"
        bytes.withUnsafeBytes { all in
            #expect(SHA256.hex(of: all) == expected)
            let hasher = SHA256()
            var offset = 0
            for size in [0, 1, 63, 64, 65, 4097] + Array(repeating: 1 << 20, count: 3) {
                let end = min(offset + size, all.count)
                hasher.update(UnsafeRawBufferPointer(rebasing: all[offset ..< end]))
                offset = end
            }
            #expect(offset == all.count)
            #expect(hasher.finalize() == expected)
        }
    }
}
