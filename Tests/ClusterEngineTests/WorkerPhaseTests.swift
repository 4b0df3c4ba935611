import Testing
@testable import ClusterEngine

/// The phase rules of the controls, alone.
@Suite("Worker phases")
struct WorkerPhaseTests {
    static let all: [WorkerPhase] = [.idle, .running, .pausing, .paused, .leaving, .dead(.killed), .dead(.leaseLost), .removed]

    @Test("pause: pausing while an attempt is held, paused once the thread stops, and only from idle or running")
    func pause() {
        #expect(WorkerPhase.running.afterPause(holdingAttempt: true) == .pausing)
        #expect(WorkerPhase.idle.afterPause(holdingAttempt: false) == .paused)
        #expect(WorkerPhase.pausing.whenThreadStops == .paused)
        #expect(WorkerPhase.running.whenThreadStops == .running)
        for phase in Self.all where phase != .idle && phase != .running {
            #expect(phase.afterPause(holdingAttempt: true) == nil, "\(phase) paused")
        }
    }

    @Test("resume applies to pausing and paused workers only")
    func resume() {
        #expect(WorkerPhase.paused.afterResume(holdingAttempt: true) == .running)
        #expect(WorkerPhase.pausing.afterResume(holdingAttempt: true) == .running)
        #expect(WorkerPhase.paused.afterResume(holdingAttempt: false) == .idle)
        for phase in Self.all where !phase.isStopping {
            #expect(phase.afterResume(holdingAttempt: true) == nil, "\(phase) resumed")
        }
    }

    @Test("kill, restart and remove")
    func lifeAndDeath() {
        for phase in Self.all {
            #expect((phase.afterKill == nil) == (phase.isDead || phase == .removed), "\(phase)")
            #expect((phase.afterRestart == .idle) == phase.isDead, "\(phase)")
        }
        #expect(WorkerPhase.paused.afterRemove(holdingAttempt: true) == .leaving, "a paused worker finishes its chunk")
        #expect(WorkerPhase.idle.afterRemove(holdingAttempt: false) == .removed)
        #expect(WorkerPhase.leaving.afterRemove(holdingAttempt: true) == nil)
        #expect(WorkerPhase.removed.afterRemove(holdingAttempt: false) == nil)
    }

    @Test("the public view: leaving runs, a lease lost is a death of its own, only live workers take new work")
    func publicView() {
        #expect(WorkerPhase.leaving.state == .running)
        #expect(WorkerPhase.pausing.state == .pausing)
        #expect(WorkerPhase.dead(.leaseLost).state == .dead && WorkerPhase.dead(.leaseLost).leaseLost)
        #expect(!WorkerPhase.dead(.killed).leaseLost)
        #expect(Self.all.filter(\.takesNewWork) == [.idle, .running, .pausing, .paused])
    }
}
