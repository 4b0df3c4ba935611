import ClusterModel

/// The footer's prompt while it is open: a new job's range, or a filter.
extension Reducer {
    static func editPrompt(_ state: inout ViewState, key: Key, snapshot: ClusterSnapshot) -> [EngineCommand] {
        guard var prompt = state.prompt else { return [] }
        switch key {
        case .escape:
            state.prompt = nil
            return []
        case .enter where prompt.purpose == .filter:
            state.prompt = nil
            state.filter = WorkerFilter(prompt.text)
            let shown = WorkerTable(snapshot, state).matching
            state.status = StatusMessage(
                text: state.filter.map { "filter \"\($0.text)\": \(shown) of \(snapshot.workers.count) workers (Esc clears)" }
                    ?? "filter cleared: every worker shown",
                isError: state.filter != nil && shown == 0, since: snapshot.time)
            return []
        case .enter:
            do {
                let (lo, hi) = try InputParsing.range(prompt.text)
                let spec = try JobSpec(lo: lo, hi: hi, chunkSize: state.nextChunkSize, schedule: state.nextSchedule)
                state.prompt = nil
                let running = snapshot.job.map { !$0.status.isFinished } ?? false
                state.status = StatusMessage(
                    text: running ? "job queued: it starts when the current one finishes" : "job started",
                    isError: false, since: snapshot.time)
                return [.submit(spec)]
            } catch let error as InputError {
                prompt.error = error.description
            } catch let error as JobSpecError {
                prompt.error = error.description
            } catch {
                prompt.error = "\(error)"
            }
        case .backspace:
            if !prompt.text.isEmpty { prompt.text.removeLast() }
            prompt.error = nil
        case .character(let c) where c.isASCII && !c.isNewline && prompt.text.count < promptLimit:
            prompt.text.append(c)
            prompt.error = nil
        case .control("l"):
            state.fullRedrawRequested = true
        default:
            break
        }
        state.prompt = prompt
        return []
    }
}
