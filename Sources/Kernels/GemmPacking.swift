/// Packing of op(A) and op(B) blocks into a micro-kernel's panel layouts.
///
/// A block (`mc x kc`): micro-panels of `mr` rows; panel `i` holds, for each `p` in `0..<kc`,
/// the `mr` values `op(A)[mr*i + r, p]` contiguously. B block (`kc x nc`): micro-panels of
/// `nr` columns (a multiple of 8); panel `j` holds, for each `p`, the `nr` values
/// `op(B)[p, nr*j + c]`. Rows/columns past the matrix edge are zero, so the micro-kernel
/// never needs a bounds check.
enum GemmPacking {
    typealias V = SIMD8<Float>

    /// Packs op(A)[i0..<i0+mc, p0..<p0+kc] into `dst` (`ceil(mc/mr) * mr * kc` floats),
    /// `mr = K.mr`. Generic so that `mr` is a constant and the row loops unroll.
    static func packA<K: GemmMicroKernel>(_ kernel: K.Type, _ trans: Transpose,
                                          a: UnsafePointer<Float>, lda: Int,
                                          i0: Int, mc: Int, p0: Int, kc: Int,
                                          dst: UnsafeMutablePointer<Float>) {
        let mr = K.mr
        var d = dst
        for ip in stride(from: 0, to: mc, by: mr) {
            let rows = min(mr, mc - ip)
            switch trans {
            case .transposed:
                // op(A)[i, p] = a[p * lda + i]: mr contiguous floats per p.
                var src = a + (p0 * lda + i0 + ip)
                if rows == mr {
                    for _ in 0..<kc {
                        for r in 0..<mr { d[r] = src[r] }
                        d += mr; src += lda
                    }
                } else {
                    for _ in 0..<kc {
                        for r in 0..<mr { d[r] = r < rows ? src[r] : 0 }
                        d += mr; src += lda
                    }
                }
            case .none:
                // op(A)[i, p] = a[i * lda + p]: interleave mr row streams.
                let base = a + ((i0 + ip) * lda + p0)
                if rows == mr {
                    // Wrapping index arithmetic: bounded by the caller's checked shapes, and
                    // overflow checks per element cost ~10% of a k = 512, n = 128 product.
                    var src = base
                    for _ in 0..<kc {
                        for r in 0..<mr { d[r] = src[r &* lda] }
                        d += mr; src += 1
                    }
                } else {
                    for p in 0..<kc {
                        for r in 0..<mr { d[r] = r < rows ? base[r * lda + p] : 0 }
                        d += mr
                    }
                }
            }
        }
    }

    /// Packs op(B)[p0..<p0+kc, j0..<j0+nc] into `dst` (`ceil(nc/nr) * nr * kc` floats),
    /// `nr = K.nr`.
    static func packB<K: GemmMicroKernel>(_ kernel: K.Type, _ trans: Transpose,
                                          b: UnsafePointer<Float>, ldb: Int,
                                          p0: Int, kc: Int, j0: Int, nc: Int,
                                          dst: UnsafeMutablePointer<Float>) {
        let nr = K.nr
        var d = dst
        for jp in stride(from: 0, to: nc, by: nr) {
            let cols = min(nr, nc - jp)
            switch trans {
            case .none:
                // op(B)[p, j] = b[p * ldb + j]: nr contiguous floats per p.
                var src = b + (p0 * ldb + j0 + jp)
                if cols == nr {
                    for _ in 0..<kc {
                        let raw = UnsafeRawPointer(src)
                        let out = UnsafeMutableRawPointer(d)
                        for g in stride(from: 0, to: nr * 4, by: 32) {
                            out.storeBytes(of: raw.loadUnaligned(fromByteOffset: g, as: V.self),
                                           toByteOffset: g, as: V.self)
                        }
                        d += nr; src += ldb
                    }
                } else {
                    for _ in 0..<kc {
                        for c in 0..<nr { d[c] = c < cols ? src[c] : 0 }
                        d += nr; src += ldb
                    }
                }
            case .transposed:
                // op(B)[p, j] = b[j * ldb + p]: nr row streams, transposed 8x8 at a time.
                let base = b + ((j0 + jp) * ldb + p0)
                if cols == nr {
                    var p = 0
                    while p + 8 <= kc {
                        for g in stride(from: 0, to: nr, by: 8) {
                            transpose8x8(src: base + g * ldb + p, ld: ldb, dst: d + p * nr + g, ldd: nr)
                        }
                        p += 8
                    }
                    while p < kc {
                        for c in 0..<nr { d[p * nr + c] = base[c * ldb + p] }
                        p += 1
                    }
                    d += nr * kc
                } else {
                    for p in 0..<kc {
                        for c in 0..<nr { d[c] = c < cols ? base[c * ldb + p] : 0 }
                        d += nr
                    }
                }
            }
        }
    }

    /// dst[c * ldd + r] = src[r * ld + c] for an 8x8 block, via shuffles in registers.
    @inline(__always)
    static func transpose8x8(src: UnsafePointer<Float>, ld: Int,
                             dst: UnsafeMutablePointer<Float>, ldd: Int) {
        let s = UnsafeRawPointer(src)
        let stride = ld * 4
        let r0 = s.loadUnaligned(as: V.self)
        let r1 = s.loadUnaligned(fromByteOffset: stride, as: V.self)
        let r2 = s.loadUnaligned(fromByteOffset: 2 * stride, as: V.self)
        let r3 = s.loadUnaligned(fromByteOffset: 3 * stride, as: V.self)
        let r4 = s.loadUnaligned(fromByteOffset: 4 * stride, as: V.self)
        let r5 = s.loadUnaligned(fromByteOffset: 5 * stride, as: V.self)
        let r6 = s.loadUnaligned(fromByteOffset: 6 * stride, as: V.self)
        let r7 = s.loadUnaligned(fromByteOffset: 7 * stride, as: V.self)
        // Stage 1: interleave pairs of rows (unpacklo/hi within 128-bit lanes).
        let t0 = V(r0[0], r1[0], r0[1], r1[1], r0[4], r1[4], r0[5], r1[5])
        let t1 = V(r0[2], r1[2], r0[3], r1[3], r0[6], r1[6], r0[7], r1[7])
        let t2 = V(r2[0], r3[0], r2[1], r3[1], r2[4], r3[4], r2[5], r3[5])
        let t3 = V(r2[2], r3[2], r2[3], r3[3], r2[6], r3[6], r2[7], r3[7])
        let t4 = V(r4[0], r5[0], r4[1], r5[1], r4[4], r5[4], r4[5], r5[5])
        let t5 = V(r4[2], r5[2], r4[3], r5[3], r4[6], r5[6], r4[7], r5[7])
        let t6 = V(r6[0], r7[0], r6[1], r7[1], r6[4], r7[4], r6[5], r7[5])
        let t7 = V(r6[2], r7[2], r6[3], r7[3], r6[6], r7[6], r6[7], r7[7])
        // Stage 2: combine 64-bit pairs.
        let u0 = V(t0[0], t0[1], t2[0], t2[1], t0[4], t0[5], t2[4], t2[5])
        let u1 = V(t0[2], t0[3], t2[2], t2[3], t0[6], t0[7], t2[6], t2[7])
        let u2 = V(t1[0], t1[1], t3[0], t3[1], t1[4], t1[5], t3[4], t3[5])
        let u3 = V(t1[2], t1[3], t3[2], t3[3], t1[6], t1[7], t3[6], t3[7])
        let u4 = V(t4[0], t4[1], t6[0], t6[1], t4[4], t4[5], t6[4], t6[5])
        let u5 = V(t4[2], t4[3], t6[2], t6[3], t4[6], t4[7], t6[6], t6[7])
        let u6 = V(t5[0], t5[1], t7[0], t7[1], t5[4], t5[5], t7[4], t7[5])
        let u7 = V(t5[2], t5[3], t7[2], t7[3], t5[6], t5[7], t7[6], t7[7])
        // Stage 3: swap 128-bit halves. Column c of the block = row c of the result.
        let d = UnsafeMutableRawPointer(dst)
        let sd = ldd * 4
        d.storeBytes(of: V(lowHalf: u0.lowHalf, highHalf: u4.lowHalf), as: V.self)
        d.storeBytes(of: V(lowHalf: u1.lowHalf, highHalf: u5.lowHalf), toByteOffset: sd, as: V.self)
        d.storeBytes(of: V(lowHalf: u2.lowHalf, highHalf: u6.lowHalf), toByteOffset: 2 * sd, as: V.self)
        d.storeBytes(of: V(lowHalf: u3.lowHalf, highHalf: u7.lowHalf), toByteOffset: 3 * sd, as: V.self)
        d.storeBytes(of: V(lowHalf: u0.highHalf, highHalf: u4.highHalf), toByteOffset: 4 * sd, as: V.self)
        d.storeBytes(of: V(lowHalf: u1.highHalf, highHalf: u5.highHalf), toByteOffset: 5 * sd, as: V.self)
        d.storeBytes(of: V(lowHalf: u2.highHalf, highHalf: u6.highHalf), toByteOffset: 6 * sd, as: V.self)
        d.storeBytes(of: V(lowHalf: u3.highHalf, highHalf: u7.highHalf), toByteOffset: 7 * sd, as: V.self)
    }
}
