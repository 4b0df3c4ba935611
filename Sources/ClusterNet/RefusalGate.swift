import ClusterEngine
import Synchronization

/// How the coordinator turns away peers that present a wrong token (or none): each address that
/// keeps failing waits longer for each answer (exponential back-off), at most a few of its
/// refusals wait at once (more are cut off without an answer), and the log says so once per few
/// seconds per address ("41 more joins from 10.0.0.7 refused"), never a line for each. A right
/// token is never slowed, from any address: a guesser cannot keep a worker out.
///
/// Pure bookkeeping under a lock; the service does the waiting and the closing.
final class RefusalGate: Sendable {
    struct Settings: Sendable {
        /// The wait for the second refusal from an address; it doubles with each one after.
        var firstDelay = Duration.milliseconds(50)
        var longestDelay = Duration.seconds(30)
        /// Refusals from one address that may wait for their answer at once.
        var waitingPerAddress = 8
        /// At most one summary line per address and reason this often.
        var summaryInterval = Duration.seconds(5)
        /// An address that has not failed for this long starts again from no delay.
        var forgetAfter = Duration.seconds(60)
    }

    /// What to do with one refused call.
    enum Verdict: Equatable {
        /// Answer after waiting this long, then close the connection.
        case answer(after: Duration)
        /// Too many from this address are waiting already: close the connection now, unanswered.
        case cutOff
    }

    private struct Address {
        var failures = 0
        /// When the next refusal from here may be answered.
        var nextAnswer: ContinuousClock.Instant
        var waiting = 0
        var lastFailure: ContinuousClock.Instant
    }

    /// Refusals counted but not yet logged, per address and reason.
    private struct Tally {
        var count = 0
        var loggedAt: ContinuousClock.Instant
    }

    /// Joins that failed before any token was read, for one cause, across the room: the
    /// addresses (laptops) seen, and how many of them the log has counted.
    private struct FailedJoins {
        var addresses: Set<String> = []
        var counted = 1
        var countedAt: ContinuousClock.Instant
    }

    private struct State {
        var addresses: [String: Address] = [:]
        var tallies: [String: [String: Tally]] = [:]
        var failedJoins: [HandshakeWatcher.Failure: FailedJoins] = [:]
    }

    /// Laptops remembered per cause of a failed join; a room larger than this is counted as this.
    static let failedJoinAddressLimit = 4_096

    let settings: Settings
    private let cluster: Cluster
    private let state = Mutex(State())

    init(cluster: Cluster, settings: Settings = Settings()) {
        self.cluster = cluster
        self.settings = settings
    }

    /// A call from `peer` (`address`:port) was refused for `reason`: what to do with it. The first
    /// refusal of each reason from an address is logged at once; later ones are summed up.
    func refused(address: String, peer: String, reason: String, now: ContinuousClock.Instant = .now) -> Verdict {
        let (verdict, logNow) = state.withLock { s -> (Verdict, Bool) in
            var entry = s.addresses[address] ?? Address(nextAnswer: now, lastFailure: now)
            if now - entry.lastFailure > settings.forgetAfter { entry = Address(nextAnswer: now, lastFailure: now) }
            entry.failures += 1
            entry.lastFailure = now
            let verdict: Verdict
            if entry.waiting >= settings.waitingPerAddress {
                verdict = .cutOff
            } else {
                let answerAt = max(now, entry.nextAnswer)
                entry.nextAnswer = answerAt + delay(afterFailures: entry.failures)
                entry.waiting += 1
                verdict = .answer(after: answerAt - now)
            }
            s.addresses[address] = entry
            var tally = s.tallies[address]?[reason]
            let logNow = tally == nil
            if tally == nil { tally = Tally(loggedAt: now) } else { tally!.count += 1 }
            s.tallies[address, default: [:]][reason] = tally
            return (verdict, logNow)
        }
        if logNow { cluster.logRefusedWorker(peer: peer, reason: reason) }
        return verdict
    }

    /// A join from `peer` failed for `failure` before any token was read (a TLS handshake), with
    /// no back-off (it cost the coordinator a handshake, not a token check). The first of each
    /// cause is logged at once, with its address; after it the log counts the laptops that
    /// failed the same way ("3 laptops tried to join without the join code"), as the lecturer
    /// needs it, and never repeats a laptop that keeps retrying.
    func noted(address: String, peer: String, failure: HandshakeWatcher.Failure, now: ContinuousClock.Instant = .now) {
        let logNow = state.withLock { s -> Bool in
            guard var joins = s.failedJoins[failure] else {
                s.failedJoins[failure] = FailedJoins(addresses: [address], countedAt: now)
                return true
            }
            if joins.addresses.count < Self.failedJoinAddressLimit { joins.addresses.insert(address) }
            s.failedJoins[failure] = joins
            return false
        }
        if logNow { cluster.logRefusedWorker(peer: peer, reason: failure.rawValue) }
    }

    /// A refusal that waited (`Verdict.answer`) has been answered.
    func answered(address: String) {
        state.withLock { s in
            if s.addresses[address] != nil { s.addresses[address]!.waiting = max(0, s.addresses[address]!.waiting - 1) }
        }
    }

    /// Logs the refusals counted since each address's last line, where `summaryInterval` has
    /// passed; forgets addresses quiet for `forgetAfter`. Call every second or so.
    func summarise(now: ContinuousClock.Instant = .now) {
        let lines = state.withLock { s -> [(count: Int, address: String, reason: String, seconds: Double, wait: Duration)] in
            var lines: [(Int, String, String, Double, Duration)] = []
            for (address, reasons) in s.tallies {
                for (reason, tally) in reasons where now - tally.loggedAt >= settings.summaryInterval {
                    if tally.count > 0 {
                        let wait = s.addresses[address].map { delay(afterFailures: $0.failures) } ?? .zero
                        lines.append((tally.count, address, reason, (now - tally.loggedAt).inSeconds, wait))
                        s.tallies[address]![reason] = Tally(loggedAt: now)
                    } else {
                        s.tallies[address]![reason] = nil
                    }
                }
                if s.tallies[address]?.isEmpty == true { s.tallies[address] = nil }
            }
            s.addresses = s.addresses.filter { now - $0.value.lastFailure <= settings.forgetAfter || $0.value.waiting > 0 }
            return lines
        }
        let rooms = state.withLock { s -> [(laptops: Int, failure: HandshakeWatcher.Failure)] in
            var rooms: [(Int, HandshakeWatcher.Failure)] = []
            for (failure, joins) in s.failedJoins
            where joins.addresses.count > joins.counted && now - joins.countedAt >= settings.summaryInterval {
                rooms.append((joins.addresses.count, failure))
                s.failedJoins[failure]!.counted = joins.addresses.count
                s.failedJoins[failure]!.countedAt = now
            }
            return rooms
        }
        for room in rooms.sorted(by: { $0.failure.rawValue < $1.failure.rawValue }) {
            cluster.logFailedJoins(laptops: room.laptops, cause: room.failure.cause)
        }
        for line in lines.sorted(by: { $0.address < $1.address }) {
            cluster.logRefusals(count: line.count, address: line.address, reason: line.reason, seconds: line.seconds,
                                wait: line.wait.inSeconds)
        }
    }

    /// Addresses remembered now (for tests: the table does not grow with the guesses).
    var addressCount: Int { state.withLock { $0.addresses.count } }

    /// How long the next refusal's answer from `address` would wait now.
    func currentDelay(for address: String) -> Duration {
        state.withLock { s in s.addresses[address].map { delay(afterFailures: $0.failures) } ?? .zero }
    }

    /// The wait before the answer after `failures` refusals: none for the first, then doubling.
    func delay(afterFailures failures: Int) -> Duration {
        guard failures > 1 else { return .zero }
        let doublings = min(failures - 2, 30)
        return min(settings.longestDelay, settings.firstDelay * (1 << doublings))
    }
}
