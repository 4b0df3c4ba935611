import BigInt
import Testing
@testable import ClusterEngine

/// A third, deliberately naive implementation: BigInt arithmetic element by element.
private func bigIntLoop(_ lo: Int64, _ hi: Int64) -> BigInt {
    var total = BigInt(0)
    var x = lo
    while x <= hi {
        total += BigInt(x) * BigInt(x)
        if x == hi { break }
        x += 1
    }
    return total
}

@Suite("Kernel exactness")
struct KernelTests {
    static let edgeCases: [(Int64, Int64)] = [
        (1, 100), (0, 0), (7, 7), (-7, -7), (-100, -1), (-100, 100), (-1, 0), (-3, 5), (5, 6),
        ((1 << 32) - 3, (1 << 32) + 3), (-(1 << 33), -(1 << 33) + 1000),
    ]

    /// Every variant this machine can run; the test log says which.
    static let variants: [KernelVariant] = {
        print("kernel variants tested on this CPU: \(KernelVariant.supported.map(\.rawValue).joined(separator: ", ")); "
              + "the best is \(KernelVariant.best)")
        return KernelVariant.supported
    }()

    @Test("edge ranges agree with a BigInt loop and with the closed form, in every variant", arguments: edgeCases)
    func edgeRanges(lo: Int64, hi: Int64) {
        let expected = bigIntLoop(lo, hi)
        #expect(expected == ClosedForm.sumOfSquares(lo, hi))
        for variant in Self.variants {
            #expect(BigInt(SumOfSquaresKernel.sum(lo, hi, variant: variant)) == expected, "\(variant)")
        }
    }

    @Test("single elements, and every length from 1 to 70 around vector widths, in every variant")
    func shortRanges() {
        for start: Int64 in [0, 1, 5, (1 << 32) - 40, -(1 << 40)] {
            for length: Int64 in 1...70 {
                let expected = bigIntLoop(start, start + length - 1)
                for variant in Self.variants {
                    #expect(BigInt(SumOfSquaresKernel.sum(start, start + length - 1, variant: variant)) == expected,
                            "\(variant) \(start) + \(length)")
                }
            }
        }
    }

    @Test("3,000 random ranges, anywhere in the accepted range, agree with the closed form in every variant")
    func randomRanges() {
        var generator = SystemRandomNumberGenerator()
        let top = JobSpec.largestAcceptedMagnitude
        for _ in 0..<3_000 {
            // Short ranges, so the test stays fast in any build; placed anywhere, either sign.
            let lo = Int64.random(in: -top...(top - 5_000), using: &generator)
            let hi = lo + Int64.random(in: 0...4_999, using: &generator)
            let expected = ClosedForm.sumOfSquares(lo, hi)
            for variant in Self.variants {
                #expect(BigInt(SumOfSquaresKernel.sum(lo, hi, variant: variant)) == expected, "\(variant) \(lo)...\(hi)")
            }
        }
    }

    @Test("a kernel that is not supported here is refused with the ones that are")
    func parsing() throws {
        #expect(try KernelVariant.parse("auto") == KernelVariant.best)
        #expect(throws: InputError.self) { try KernelVariant.parse("avx1024") }
        if let missing = KernelVariant.allCases.first(where: { !$0.isSupported }) {
            #expect {
                try KernelVariant.parse(missing.rawValue)
            } throws: { error in
                (error as? InputError)?.description.hasPrefix("this CPU cannot run the \(missing) kernel; it can run: scalar") == true
            }
        }
    }

    static let windowCases: [(UInt64, UInt64)] = [
        (0, 5_000), ((1 << 32) - 2_000, (1 << 32) + 3_000), ((7 << 32) - 1_000, (7 << 32) + 1_000),
        ((2_000 << 32) - 700, (2_000 << 32) + 900),
    ]

    @Test("window and flush boundaries are exact", arguments: windowCases)
    func windowsAndFlushes(first: UInt64, last: UInt64) {
        // Tiny flush intervals exercise the lane flushes that real runs hit every 2^30 elements.
        let expected = bigIntLoop(Int64(first), Int64(last))
        for variant in Self.variants {
            for flush: UInt64 in [1, 7, 1_000, 1 << 30] {
                #expect(BigInt(SumOfSquaresKernel.sumOfSquaredMagnitudes(first, last, variant: variant, flushInterval: flush))
                        == expected, "\(variant), flushing every \(flush)")
            }
        }
    }

    /// The IFMA variant's own boundaries: its 2²⁶ windows, its 32-element steps and the lane
    /// flush after 4,096 steps (131,072 elements).
    static let ifmaCases: [(UInt64, UInt64)] = [
        ((1 << 26) - 3_000, (1 << 26) + 5_000), ((5 << 26) - 131_072 - 33, (5 << 26) + 131_072 + 31),
        (0, 3 * 131_072 + 95), ((1 << 44) - (1 << 26) - 100, (1 << 44) - (1 << 26) + 262_244),
        (UInt64(JobSpec.largestAcceptedMagnitude) - 300_000, UInt64(JobSpec.largestAcceptedMagnitude)),
    ]

    @Test("the IFMA variant's windows (2²⁶), steps (32) and lane flushes (every 131,072 elements) are exact, with every length around them",
          .enabled(if: KernelVariant.ifma.isSupported, "this CPU has no AVX-512 IFMA"), arguments: ifmaCases)
    func ifmaBoundaries(first: UInt64, last: UInt64) {
        let expected = bigIntLoop(Int64(first), Int64(last))
        for flush: UInt64 in [1, 31, 32, 33, 131_071, 131_072, 131_073, 1 << 30] {
            #expect(BigInt(SumOfSquaresKernel.sumOfSquaredMagnitudes(first, last, variant: .ifma, flushInterval: flush))
                    == expected, "flushing every \(flush)")
        }
        // Every length from 1 to 200 from the start, and lengths around the flush.
        for length: UInt64 in Array(1...200) + [131_040, 131_071, 131_072, 131_073, 131_104] where first + length - 1 <= last {
            let end = first + length - 1
            #expect(BigInt(SumOfSquaresKernel.sumOfSquaredMagnitudes(first, end, variant: .ifma, flushInterval: 1 << 30))
                    == bigIntLoop(Int64(first), Int64(end)), "\(first)...\(end)")
        }
    }

    @Test("the seed's example: 1...100 is 338350")
    func seedExample() {
        #expect(SumOfSquaresKernel.sum(1, 100) == 338_350)
    }

    @Test("an empty range sums to zero")
    func emptyRange() {
        #expect(SumOfSquaresKernel.sum(5, 4) == 0)
    }

    @Test("the top of the largest accepted range is exact in 128 bits")
    func largestAcceptedRange() throws {
        let top = JobSpec.largestAcceptedMagnitude
        // The whole of 1...top is accepted and -top...-1 too; one more element is refused.
        _ = try JobSpec(lo: 1, hi: top)
        _ = try JobSpec(lo: -top, hi: -1)
        #expect(throws: JobSpecError.self) { try JobSpec(lo: 1, hi: top + 1) }
        #expect(throws: JobSpecError.self) { try JobSpec(lo: -top, hi: top) }
        // Squares near the top exceed 64 bits many times over; the kernel must still be exact.
        let lo = top - 50_000
        let expected = bigIntLoop(lo, top)
        for variant in Self.variants {
            #expect(BigInt(SumOfSquaresKernel.sum(lo, top, variant: variant)) == expected, "\(variant)")
            #expect(BigInt(SumOfSquaresKernel.sum(-top, -lo, variant: variant)) == expected, "\(variant)")
        }
        // And the closed form of the full range sits just under 2^128.
        let full = ClosedForm.sumOfSquares(1, top)
        #expect(full <= BigInt(UInt128.max))
        #expect(ClosedForm.sumOfSquares(1, top + 1) > BigInt(UInt128.max))
    }
}

@Suite("Job validation")
struct JobSpecTests {
    @Test("a reversed range is refused with a message that says what to do")
    func reversed() {
        #expect(throws: JobSpecError.emptyRange(lo: 5, hi: 1)) { try JobSpec(lo: 5, hi: 1) }
        #expect(JobSpecError.emptyRange(lo: 5, hi: 1).description.contains("LO must not exceed HI"))
    }

    @Test("chunk size must be positive")
    func chunkSize() {
        #expect(throws: JobSpecError.chunkSizeNotPositive(0)) { try JobSpec(lo: 1, hi: 10, chunkSize: 0) }
    }

    @Test("the full Int64 range is refused before any work starts")
    func tooLarge() {
        #expect(throws: JobSpecError.self) { try JobSpec(lo: .min, hi: .max) }
    }

    @Test("chunks tile the range exactly, the last one short")
    func chunking() throws {
        let spec = try JobSpec(lo: -5, hi: 14, chunkSize: 6)
        #expect(spec.elementCount == 20)
        #expect(spec.chunkCount == 4)
        #expect(spec.elements(ofChunk: 0) == -5...0)
        #expect(spec.elements(ofChunk: 3) == 13...14)
        let covered = (0..<spec.chunkCount).flatMap { Array(spec.elements(ofChunk: $0)) }
        #expect(covered == Array(-5...14))
    }
}

@Suite("Work pool")
struct WorkPoolTests {
    @Test("static partition gives each worker one contiguous slice; dynamic shares one queue")
    func staticSlices() {
        let a = WorkerID(1), b = WorkerID(2), c = WorkerID(3)
        var pool = WorkPool(chunkCount: 10, policy: .static, workers: [a, b, c])
        var takenByB: [Int64] = []
        while let (chunk, _) = pool.next(for: b) { takenByB.append(chunk) }
        #expect(takenByB == [3, 4, 5])  // b's slice only: nothing is shared in a static plan
        pool.release(ownedBy: c)
        #expect(pool.next(for: b)?.chunk == 6)  // c's released slice is now shared
        var dynamic = WorkPool(chunkCount: 3, policy: .dynamic, workers: [a, b])
        #expect(dynamic.next(for: b)?.chunk == 0)
        #expect(dynamic.next(for: a)?.chunk == 1)
    }

    @Test("a pool resumed from a journal never hands out the chunks it kept; static slices share what is left evenly")
    func excludingAccepted() {
        let kept: [Range<Int64>] = [0..<3, 5..<6, 8..<12]
        var dynamic = WorkPool(chunkCount: 12, policy: .dynamic, workers: [], excluding: kept)
        var handed: [Int64] = []
        while let (chunk, _) = dynamic.next(for: WorkerID(1)) { handed.append(chunk) }
        #expect(handed == [3, 4, 6, 7])
        #expect(WorkPool.spans(of: 5, excluding: []) == [ChunkSpan(first: 0, end: 5)])
        #expect(WorkPool.spans(of: 5, excluding: [0..<5]).isEmpty)
        let a = WorkerID(1), b = WorkerID(2)
        var slices = WorkPool(chunkCount: 12, policy: .static, workers: [a, b], excluding: kept)
        var byA: [Int64] = [], byB: [Int64] = []
        while let (chunk, _) = slices.next(for: a) { byA.append(chunk) }
        while let (chunk, _) = slices.next(for: b) { byB.append(chunk) }
        #expect(byA == [3, 4] && byB == [6, 7])
    }

    @Test("a re-queued piece is handed out next and remembers who lost it")
    func requeue() {
        var pool = WorkPool(chunkCount: 5, policy: .dynamic, workers: [])
        _ = pool.next(for: WorkerID(1))
        _ = pool.next(for: WorkerID(1))
        pool.requeue(ChunkPiece(chunk: 1, elements: 10...19, origin: .redo(lostBy: WorkerID(1))))
        let redo = pool.next(for: WorkerID(2))
        #expect(redo?.chunk == 1)
        #expect(redo?.piece == ChunkPiece(chunk: 1, elements: 10...19, origin: .redo(lostBy: WorkerID(1))))
        #expect(pool.next(for: WorkerID(2))?.piece == nil)
        #expect(pool.pendingCount == 2)
    }

    @Test("a piece split off for a thief goes to that thief only, until the thief stops taking work")
    func reservedForThief() {
        let victim = WorkerID(1), thief = WorkerID(2), other = WorkerID(3)
        var pool = WorkPool(chunkCount: 1, policy: .dynamic, workers: [])
        #expect(pool.next(for: victim)?.chunk == 0)
        let piece = ChunkPiece(chunk: 0, elements: 500...999, origin: .split(from: victim))
        pool.reserve(piece, for: thief)
        #expect(pool.pendingCount == 1)
        #expect(pool.next(for: victim) == nil)  // done with its own part, it does not take it back
        #expect(pool.next(for: other) == nil)
        #expect(pool.next(for: thief)?.piece == piece)

        pool.reserve(piece, for: thief)
        let releasedForOther = pool.releaseReservation(of: other)
        let releasedForThief = pool.releaseReservation(of: thief)  // the thief paused, died or left
        #expect(!releasedForOther && releasedForThief)
        #expect(pool.next(for: other)?.piece == piece)
        #expect(pool.pendingCount == 0)
    }

    @Test("stealing moves the back half of the largest slice, rounded up, into the thief's slice")
    func stealSlice() {
        let a = WorkerID(1), b = WorkerID(2), c = WorkerID(3)
        var pool = WorkPool(chunkCount: 9, policy: .stealing, workers: [a, b, c])  // 0-2, 3-5, 6-8
        while pool.next(for: c) != nil {}
        _ = pool.next(for: a)  // a has 1, 2 left; b has 3, 4, 5
        let stolen = pool.stealSlice(for: c)
        #expect(stolen?.victim == b)
        #expect(stolen?.count == 2)
        var takenByC: [Int64] = []
        while let (chunk, _) = pool.next(for: c) { takenByC.append(chunk) }
        #expect(takenByC == [4, 5])
        #expect(pool.next(for: b)?.chunk == 3)
        #expect(pool.next(for: b) == nil)
        #expect(pool.stealSlice(for: b)?.victim == a)  // a's chunk 2 moves to b
        #expect(pool.pendingCount == 2)
        let tie = pool.stealSlice(for: c)  // a and b hold one chunk each: the lower id loses it
        #expect(tie?.victim == a && tie?.count == 1)
        #expect(pool.next(for: b)?.chunk == 2)
        #expect(pool.next(for: c)?.chunk == 1)
        #expect(pool.stealSlice(for: a) == nil)
    }
}
