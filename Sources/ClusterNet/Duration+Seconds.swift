/// A duration as seconds: the engine's clocks, and the lines people read, count in Doubles.
extension Duration {
    var inSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
