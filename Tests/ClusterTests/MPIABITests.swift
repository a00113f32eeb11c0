import Foundation
import Testing
@testable import Cluster

/// `MPILibrary` declares Open MPI's ABI by hand (it is loaded at run time, without mpi.h). This
/// compiles a small C program against the installed mpi.h that (1) assigns every function we call
/// to a pointer of the prototype MPILibrary's comments give (a mismatch fails the compilation,
/// with -Werror), and (2) prints the constants and handle definitions we rely on.
@Suite(.enabled(if: MPIJob.enabled, MPIJob.skipReason))
struct MPIABITests {

    static let program = """
        #include <mpi.h>
        #include <stdint.h>
        #include <stdio.h>
        /* The prototypes MPILibrary declares, one pointer each: a mismatch is a compile error. */
        int (*init_thread)(int *, char ***, int, int *) = MPI_Init_thread;
        int (*finalize)(void) = MPI_Finalize;
        int (*comm_rank)(MPI_Comm, int *) = MPI_Comm_rank;
        int (*comm_size)(MPI_Comm, int *) = MPI_Comm_size;
        int (*iallreduce)(const void *, void *, int, MPI_Datatype, MPI_Op, MPI_Comm, MPI_Request *) = MPI_Iallreduce;
        int (*iallgatherv)(const void *, int, MPI_Datatype, void *, const int[], const int[], MPI_Datatype, MPI_Comm,
                           MPI_Request *) = MPI_Iallgatherv;
        int (*isend)(const void *, int, MPI_Datatype, int, int, MPI_Comm, MPI_Request *) = MPI_Isend;
        int (*irecv)(void *, int, MPI_Datatype, int, int, MPI_Comm, MPI_Request *) = MPI_Irecv;
        int (*testall)(int, MPI_Request[], int *, MPI_Status[]) = MPI_Testall;
        int (*cancel)(MPI_Request *) = MPI_Cancel;
        int (*abort_)(MPI_Comm, int) = MPI_Abort;
        int (*library_version)(char *, int *) = MPI_Get_library_version;
        int main(void) {
            printf("thread_serialized %d\\n", (int)MPI_THREAD_SERIALIZED);
            printf("any_source %d\\n", MPI_ANY_SOURCE);
            printf("in_place %ld\\n", (long)(intptr_t)MPI_IN_PLACE);
            printf("status_ignore %ld\\n", (long)(intptr_t)MPI_STATUS_IGNORE);
            printf("max_library_version %d\\n", MPI_MAX_LIBRARY_VERSION_STRING);
            printf("handles_are_symbols %d\\n", (void *)MPI_COMM_WORLD == (void *)&ompi_mpi_comm_world
                   && (void *)MPI_FLOAT == (void *)&ompi_mpi_float && (void *)MPI_BYTE == (void *)&ompi_mpi_byte
                   && (void *)MPI_SUM == (void *)&ompi_mpi_op_sum);
            printf("handle_sizes %d\\n", sizeof(MPI_Comm) == sizeof(void *) && sizeof(MPI_Datatype) == sizeof(void *)
                   && sizeof(MPI_Op) == sizeof(void *) && sizeof(MPI_Request) == sizeof(void *));
            return 0;
        }
        """

    @Test func handDeclaredABIMatchesMpiH() throws {
        let mpicc = try #require(MPIJob.tool("mpicc"), "mpicc not found on PATH: install openmpi-bin")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mpi-abi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = directory.appendingPathComponent("abi.c"), binary = directory.appendingPathComponent("abi")
        try Self.program.write(to: source, atomically: true, encoding: .utf8)
        let (compiled, compilerOutput) = try MPIJob.capture(mpicc, ["-Werror", "-Wall", "-Wno-format", "-o", binary.path, source.path])
        try #require(compiled == 0, Comment(rawValue: "mpicc failed:\n" + compilerOutput))
        let (status, output) = try MPIJob.capture(binary.path, [])
        try #require(status == 0, Comment(rawValue: output))
        var values: [String: Int] = [:]
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let v = Int(parts[1]) { values[String(parts[0])] = v }
        }
        #expect(values["thread_serialized"] == Int(MPILibrary.threadSerialized))
        #expect(values["any_source"] == Int(MPILibrary.anySource))
        #expect(values["in_place"] == Int(bitPattern: MPILibrary.inPlace))
        #expect(values["status_ignore"] == 0, "MPILibrary passes nil for MPI_STATUS_IGNORE")
        #expect(values["max_library_version"] == MPILibrary.maxLibraryVersion)
        #expect(values["handles_are_symbols"] == 1, "MPI_COMM_WORLD etc. are no longer the addresses of ompi_mpi_* globals")
        #expect(values["handle_sizes"] == 1)
    }
}
