import ClusterModel
import Foundation
import Testing
@testable import ClusterRecording

/// The recording's attempts, written as bytes by hand, read back by `TimelineSegment`'s Codable.
@Suite("Recorded attempts")
struct AttemptTextTests {
    @Test("a run's attempt reads back from a recording as it was written, chunk count included; a single chunk's carries none")
    func recordedRun() throws {
        let run = TimelineSegment(worker: WorkerID(1), job: JobID(1), chunk: 40, chunkCount: 214, attempt: AttemptID(9),
                                  elements: 163_841...1_040_384, start: 0.25, end: 0.250_051, outcome: .done,
                                  origin: .fresh, wasSplit: false)
        let single = TimelineSegment(worker: WorkerID(2), job: JobID(1), chunk: 254, attempt: AttemptID(10),
                                     elements: 1_040_385...1_044_480, start: 0.3, end: nil, outcome: .inFlight,
                                     origin: .redo(lostBy: WorkerID(1)), wasSplit: false)
        var data = Data()
        AttemptText.append([run, single], to: &data)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.components(separatedBy: "\"n\":").count == 2, "only the run carries its count: \(text)")
        let read = try JSONDecoder().decode([TimelineSegment].self, from: data)
        #expect(read == [run, single])
        #expect(read.map(\.chunkCount) == [214, 1])
    }

    @Test("a forged run (a chunk count of 0, negative, past its elements, or whose last index overflows) is refused before it is drawn")
    func forgedRunsRefused() throws {
        func frame(chunk: Int64, count: Int64) throws -> ClusterFrame {
            let text = #"[{"w":1,"j":1,"c":\#(chunk),"n":\#(count),"a":9,"e":[1,4096],"s":0.25,"x":0.5,"o":"done","g":"fresh","p":false}]"#
            let segments = try JSONDecoder().decode([TimelineSegment].self, from: Data(text.utf8))
            let snapshot = ClusterSnapshot(time: 1, job: nil, queuedJobs: 0, finishedJobs: 0, workers: [], throughput: 0,
                                           throughputHistory: [], staleResults: 0, lastEventSequence: 0)
            return ClusterFrame(snapshot: snapshot, timeline: TimelineSnapshot(now: 1, segments: segments))
        }
        #expect(FrameCheck.problem(in: try frame(chunk: 40, count: 16)) == nil)
        for (chunk, count) in [(Int64(40), Int64(0)), (40, -3), (40, 4_097), (Int64.max - 2, 16)] {
            #expect(FrameCheck.problem(in: try frame(chunk: chunk, count: count)) == "the timeline's chunks", "\(chunk) + \(count)")
        }
    }
}
