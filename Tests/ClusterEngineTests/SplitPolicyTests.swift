import Testing
@testable import ClusterEngine

/// Work stealing's choices, alone.
@Suite("Split policy")
struct SplitPolicyTests {
    typealias Candidate = SplitPolicy.Candidate

    @Test("the victim is the chunk with the most time left, a stopped worker first")
    func victim() {
        let candidates = [
            Candidate(index: 0, left: 10_000, speed: 1, isStopping: false),
            Candidate(index: 1, left: 4_000, speed: 0.1, isStopping: false),  // 40,000 at its speed
            Candidate(index: 2, left: 3_000, speed: 1, isStopping: true),
        ]
        #expect(SplitPolicy.victim(among: candidates, smallestSplit: 100, worthSplitting: 1000) == 2)
        #expect(SplitPolicy.victim(among: Array(candidates.prefix(2)), smallestSplit: 100, worthSplitting: 1000) == 1)
    }

    @Test("chunks too small, or too soon done, are left alone")
    func tooSmall() {
        let small = [Candidate(index: 0, left: 50, speed: 1, isStopping: true)]
        #expect(SplitPolicy.victim(among: small, smallestSplit: 100, worthSplitting: 0) == nil)
        let soon = [Candidate(index: 0, left: 500, speed: 1, isStopping: false)]
        #expect(SplitPolicy.victim(among: soon, smallestSplit: 100, worthSplitting: 1000) == nil)
        #expect(SplitPolicy.victim(among: [], smallestSplit: 1, worthSplitting: 0) == nil)
    }

    @Test("the victim keeps a share in proportion to speed, or none when stopped")
    func share() {
        #expect(SplitPolicy.kept(of: 1000, victimSpeed: 1, thiefSpeed: 1, victimStopping: false) == 500)
        #expect(SplitPolicy.kept(of: 1000, victimSpeed: 0.25, thiefSpeed: 1, victimStopping: false) == 200)
        #expect(SplitPolicy.kept(of: 1000, victimSpeed: 1, thiefSpeed: 1, victimStopping: true) == 0)
    }
}
