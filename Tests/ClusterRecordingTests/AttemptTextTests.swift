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
}
