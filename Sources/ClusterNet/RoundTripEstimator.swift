/// The round trip to one worker process, as TCP keeps it: a Ping with the Welcome, then one
/// every `interval`, never two on their way at once (one unanswered for `giveUpAfter` is given
/// up, as a silent worker is); each answer moves the smoothed value an eighth of the way to its
/// sample. It reads no clock: every call says when it is.
struct RoundTripEstimator {
    let interval: Duration
    var giveUpAfter: Duration
    /// The Ping on its way, if any, and when it left.
    private(set) var outstanding: (nonce: UInt64, sent: ContinuousClock.Instant)?
    private var lastSent: ContinuousClock.Instant?
    private var sent: UInt64 = 0
    /// The smoothed round trip; nil until the first answer.
    private(set) var smoothed: Duration?
    /// The last answer's own round trip, unsmoothed (for `--metrics`' histogram).
    private(set) var lastSample: Duration?

    init(interval: Duration, giveUpAfter: Duration) {
        self.interval = interval
        self.giveUpAfter = giveUpAfter
    }

    /// The nonce of a Ping to send at `now`, or nil if one is not due.
    mutating func pingDue(at now: ContinuousClock.Instant) -> UInt64? {
        if let lastSent, now - lastSent < interval { return nil }
        if let outstanding, now - outstanding.sent < giveUpAfter { return nil }
        sent += 1
        outstanding = (sent, now)
        lastSent = now
        return sent
    }

    /// The answer to Ping `nonce` came at `now`: the new smoothed round trip, or nil for an
    /// answer to a Ping given up (or never sent).
    mutating func pong(_ nonce: UInt64, at now: ContinuousClock.Instant) -> Duration? {
        guard let outstanding, outstanding.nonce == nonce else { return nil }
        self.outstanding = nil
        let sample = now - outstanding.sent
        lastSample = sample
        let value = smoothed.map { $0 + (sample - $0) / 8 } ?? sample
        smoothed = value
        return value
    }
}
