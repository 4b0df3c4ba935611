import Foundation
import Testing
@testable import ClusterNet

@Suite("A worker's name and status file")
struct WorkerIdentityTests {
    @Test("outside Slurm a worker is named by its host")
    func hostOnly() {
        #expect(WorkerName.automatic(hostName: "laptop-7", environment: [:]) == "laptop-7")
        // Half of Slurm's variables is not a Slurm task.
        #expect(WorkerName.automatic(hostName: "laptop-7", environment: ["SLURM_JOB_ID": "12"]) == "laptop-7")
        #expect(WorkerName.automatic(hostName: "", environment: [:]) == "worker")
    }

    @Test("a Slurm task names its job and task")
    func slurmTask() {
        let environment = ["SLURM_JOB_ID": "4211", "SLURM_PROCID": "3", "SLURM_STEP_ID": "0"]
        #expect(WorkerName.automatic(hostName: "node7", environment: environment) == "node7 job 4211 task 3")
        // A value that is not a number is not trusted into the dashboard.
        #expect(WorkerName.automatic(hostName: "node7", environment: ["SLURM_JOB_ID": "x\u{1b}[2J", "SLURM_PROCID": "0"]) == "node7")
    }

    @Test("a long host name gives way to the job and task, within the dashboard's 64 characters")
    func longHostName() {
        let host = String(repeating: "n", count: 100)
        let name = WorkerName.automatic(hostName: host, environment: ["SLURM_JOB_ID": "987654321", "SLURM_PROCID": "127"])
        #expect(name.count == WireProtocol.hostNameLimit)
        #expect(name.hasSuffix(" job 987654321 task 127"))
        #expect(WireProtocol.printableHostName(name, fallback: "") == name, "the coordinator keeps it as it is")
    }

    @Test("the status file says joined or connecting at once when that changes, and is gone on removal")
    func statusFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("status-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("status").path
        #expect(WorkerStatusFile.problem(writing: path) == nil)
        let file = WorkerStatusFile(path: path, coordinator: "coordinator:7070")
        let read = { try? String(contentsOfFile: path, encoding: .utf8) }
        file.update(.connecting)
        #expect(read() == "cluster-top worker status\nconnecting to coordinator:7070\n")
        file.update(.joined)
        #expect(read() == "cluster-top worker status\njoined coordinator:7070\n")
        file.update(.connecting)
        #expect(read() == "cluster-top worker status\nconnecting to coordinator:7070\n")
        file.remove()
        #expect(read() == nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty, "no temporary file left behind")
    }

    @Test("a status file is removed on exit only if it is still the file this process wrote")
    func removesOnlyItsOwn() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("status-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("status").path
        let file = WorkerStatusFile(path: path, coordinator: "coordinator:7070")
        file.update(.joined)
        // Someone puts a file of their own there: it is neither written over nor removed.
        try FileManager.default.removeItem(atPath: path)
        try "someone else's\n".write(toFile: path, atomically: true, encoding: .utf8)
        file.update(.connecting)
        file.remove()
        #expect((try? String(contentsOfFile: path, encoding: .utf8)) == "someone else's\n")
    }

    @Test("a path that holds something else is refused before the worker starts: a file of someone else's, a folder, a link, a device, a pipe; a status file left behind is not")
    func statusFileRefusesOthers() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("status-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func path(_ name: String) -> String { folder.appendingPathComponent(name).path }
        try "precious\n".write(toFile: path("notes"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: path("empty"), withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: path("link"), withDestinationPath: path("notes"))
        #expect(mkfifo(path("pipe"), 0o644) == 0)
        #expect(WorkerStatusFile.problem(writing: path("notes")) == "\(path("notes")) exists and is not a status file: give a path of its own (it is written and removed)")
        #expect(WorkerStatusFile.problem(writing: path("empty"))?.contains("is a folder, not a status file") == true)
        #expect(WorkerStatusFile.problem(writing: path("link"))?.contains("is a symbolic link, not a status file") == true)
        #expect(WorkerStatusFile.problem(writing: path("pipe"))?.contains("is a pipe, not a status file") == true)
        #expect(WorkerStatusFile.problem(writing: "/dev/full")?.contains("is a device, not a status file") == true)
        // One this program wrote (its worker killed, say) is written again.
        try "cluster-top worker status\njoined coordinator:7070\n".write(toFile: path("left"), atomically: true, encoding: .utf8)
        #expect(WorkerStatusFile.problem(writing: path("left")) == nil)
    }

    @Test("a status file in a folder that does not exist is refused before the worker starts")
    func statusFileFolder() {
        #expect(WorkerStatusFile.problem(writing: "/no/such/folder/status") == "the folder /no/such/folder does not exist")
        #expect(WorkerStatusFile.problem(writing: "status") == nil, "a bare name is in the current folder")
    }
}
