#if canImport(Glibc)
import Glibc
#endif

/// Memory for the big buffers (packed weights, activations, gradients): blocks of 4 MB or more
/// are aligned to 2 MB and marked for transparent huge pages (`madvise(MADV_HUGEPAGE)`; Linux
/// leaves THP to `madvise` by default), so a stream through a 21 MB packed W_hh every time step
/// walks ~11 pages instead of ~5,000. Smaller blocks are only cache-line aligned. Release
/// with `free`.
public enum LargeAllocation {
    public static let hugePage = 2 << 20
    public static let threshold = 4 << 20

    /// At least `bytes` bytes, 64-byte aligned (2 MB aligned from `threshold` on); nil when
    /// out of memory.
    public static func allocate(bytes: Int) -> UnsafeMutableRawPointer? {
        var raw: UnsafeMutableRawPointer?
        if bytes >= threshold {
            let size = (bytes + hugePage - 1) / hugePage * hugePage
            guard posix_memalign(&raw, hugePage, size) == 0, let raw else { return nil }
            #if os(Linux)
            _ = madvise(raw, size, MADV_HUGEPAGE)   // a hint: without THP support nothing changes
            #endif
            return raw
        }
        guard posix_memalign(&raw, 64, max(bytes, 64)) == 0 else { return nil }
        return raw
    }
}
