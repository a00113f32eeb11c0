import Memory
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Scratch memory for the own GEMM's packed panels of A and B.
///
/// Allocated once (a few MB) and reused by every call on the owning thread, so the hot
/// path never allocates. Not thread-safe: each worker thread owns one (pass it to `gemm`)
/// or relies on `GemmWorkspace.forCurrentThread`, which keeps one per thread.
public final class GemmWorkspace: @unchecked Sendable {
    /// Packed block of op(A): up to `mc x kc` floats, rows grouped in micro-panels of 6.
    let packedA: UnsafeMutablePointer<Float>
    /// Packed block of op(B): up to `kc x nc` floats, columns grouped in micro-panels of 16.
    let packedB: UnsafeMutablePointer<Float>

    public init() {
        let b = GemmBlocking.self
        packedA = GemmWorkspace.allocate(b.maxMC * b.maxKC)
        packedB = GemmWorkspace.allocate(b.maxKC * b.maxNC)
    }

    deinit {
        free(packedA)
        free(packedB)
    }

    /// The calling thread's workspace, created on first use and freed when the thread exits.
    public static var forCurrentThread: GemmWorkspace {
        if let p = pthread_getspecific(threadKey) {
            return Unmanaged<GemmWorkspace>.fromOpaque(p).takeUnretainedValue()
        }
        let ws = GemmWorkspace()
        pthread_setspecific(threadKey, Unmanaged.passRetained(ws).toOpaque())
        return ws
    }

    /// Release with `free`. 64-byte alignment (one cache line per 16 floats of a packed B row);
    /// big blocks (a packed W_hh) on huge pages (`LargeAllocation`).
    static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        guard let raw = LargeAllocation.allocate(bytes: count * MemoryLayout<Float>.stride) else {
            fatalError("out of memory allocating \(count) floats for the GEMM")
        }
        return raw.bindMemory(to: Float.self, capacity: count)
    }
}

/// pthread key whose destructor releases the per-thread workspace.
private let threadKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key) { p in
        if let p { Unmanaged<GemmWorkspace>.fromOpaque(p).release() }
    }
    return key
}()
