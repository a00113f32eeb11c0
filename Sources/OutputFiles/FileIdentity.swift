import Foundation

/// Which file a path names: the device and inode `stat(2)` reports (symbolic links followed).
///
/// Two paths name the same file exactly when their identities are equal, however they are spelled:
/// `g.fa` and `/data/g.fa`, a symbolic link and its target, two hard links. Comparing spellings
/// (even resolved ones) misses links and mounts; the kernel's identity does not.
public struct FileIdentity: Hashable, Sendable, CustomStringConvertible {
    public let device: UInt64
    public let inode: UInt64

    public init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }

    /// The identity of the file at `path`, or nil when there is none (missing, or not reachable).
    public init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        self.init(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    public var description: String { "device \(device), inode \(inode)" }
}
