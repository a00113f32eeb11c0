/// `FloatBuffer` and `LargeAllocation` live in `Memory` (no BLAS), so `Parallel` can use them
/// without linking the kernels; Kernels' API takes and returns `FloatBuffer`s, so whoever imports
/// Kernels sees the buffer type too, as before the split.
@_exported import Memory
