import Kernels
import Testing
@testable import Parallel

@Suite(.serialized) struct ReduceScatterTests {
    /// Gradient values with varied exponents and signs so the summation order matters.
    static func value(worker: Int, index: Int) -> Float {
        let x = Float((index &* 2_654_435_761 &+ worker &* 40_503) % 10_007) / 10_007
        return (x - 0.5) * Float(1 << (index % 7)) / Float(3 + worker)
    }

    /// Runs one reduce-scatter with W workers over P parameters and returns the reduced sum and
    /// the slices the workers reported.
    static func reduce(workers: Int, count: Int) throws -> (sum: [Float], slices: [Range<Int>]) {
        let topology = try Topology.machine()
        let layout = try WorkerLayout(spec: LayoutSpec(workers: workers, oversubscribe: true), topology: topology)
        let pool = try WorkerPool(layout: layout, topology: topology)
        let reducer = ReduceScatter(count: count, barrier: pool.barrier)
        let buffers = WorkerSlots<FloatBuffer?>(count: workers, initial: nil)
        let slices = WorkerSlots<Range<Int>>(count: workers, initial: 0..<0)
        pool.run { w in
            let gradient = pool.memory(worker: w).allocate(count: count).buffer
            for i in 0..<count { gradient.pointer[i] = value(worker: w, index: i) }
            buffers[w] = gradient
            reducer.attach(worker: w, gradient: gradient.pointer)
            slices[w] = reducer.reduce(worker: w)
        }
        return (Array(UnsafeBufferPointer(start: reducer.reduced, count: count)), slices.elements)
    }

    @Test(arguments: [1, 2, 3])
    func equalsTheSerialSum(workers: Int) throws {
        let count = 1003
        let (sum, slices) = try ReduceScatterTests.reduce(workers: workers, count: count)
        for i in 0..<count {
            var expected = ReduceScatterTests.value(worker: 0, index: i)
            for w in 1..<workers { expected += ReduceScatterTests.value(worker: w, index: i) }
            #expect(sum[i].bitPattern == expected.bitPattern, "element \(i)")
            if sum[i].bitPattern != expected.bitPattern { break }
        }
        // Slices tile 0..<P in worker order, with boundaries on 16-float lines.
        #expect(slices.first?.lowerBound == 0 && slices.last?.upperBound == count)
        for w in 1..<workers {
            #expect(slices[w].lowerBound == slices[w - 1].upperBound)
            #expect(slices[w].lowerBound % ReduceScatter.alignment == 0)
        }
    }

    @Test func slicesForThreeWorkers() throws {
        // 1003 floats = 63 lines of 16 (the last partial): 21 lines each.
        let (_, slices) = try ReduceScatterTests.reduce(workers: 3, count: 1003)
        #expect(slices == [0..<336, 336..<672, 672..<1003])
    }

    @Test func moreWorkersThanLinesLeavesEmptySlices() throws {
        let (sum, slices) = try ReduceScatterTests.reduce(workers: 3, count: 20)
        #expect(slices == [0..<16, 16..<20, 20..<20])
        #expect(sum[19] == ReduceScatterTests.value(worker: 0, index: 19) + ReduceScatterTests.value(worker: 1, index: 19)
                + ReduceScatterTests.value(worker: 2, index: 19))
    }

    @Test func bitwiseIdenticalAcrossRuns() throws {
        let first = try ReduceScatterTests.reduce(workers: 3, count: 5003).sum
        let second = try ReduceScatterTests.reduce(workers: 3, count: 5003).sum
        #expect(first.map(\.bitPattern) == second.map(\.bitPattern))
    }
}
