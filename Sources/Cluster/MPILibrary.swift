import Foundation

/// Open MPI, loaded at run time with dlopen, only when the job was started by an MPI launcher.
///
/// Why not a build-time dependency (a `systemLibrary` target behind a SwiftPM trait, built with
/// `swift build --traits MPI`)? Both were tried (README, "Several machines"): the trait build works,
/// but it is a second binary to build and keep apart (switching the trait recompiled every
/// module of the package), CI would build everything twice, and a binary built without the trait
/// would still have to detect mpirun and refuse to run N unaware copies. Loading the library when
/// a launcher is detected gives one binary for a laptop and a cluster, and a build that needs
/// no MPI at all. The price is declaring, by hand, the part of Open MPI's ABI that we call: the
/// twelve functions below (their C prototypes from mpi.h are in the comments) and the handles,
/// which in Open MPI are the addresses of exported globals (`MPI_COMM_WORLD` is
/// `&ompi_mpi_comm_world`, `MPI_FLOAT` is `&ompi_mpi_float`, `MPI_SUM` is `&ompi_mpi_op_sum`) or
/// small constants (`MPI_IN_PLACE` is `(void *)1`, `MPI_STATUS_IGNORE` is NULL). That ABI is
/// stable for libmpi.so.40 (Open MPI 3.0 to 5.x); MPICH-family libraries use integer handles and
/// are refused with a clear error. The tests compare these declarations with mpi.h when mpicc
/// is installed (`MPIABITests`).
final class MPILibrary: @unchecked Sendable {
    typealias Handle = OpaquePointer
    /// `MPI_Request`: a pointer in Open MPI.
    typealias Request = OpaquePointer?

    // The C prototypes, from Open MPI's mpi.h.
    // int MPI_Init_thread(int *argc, char ***argv, int required, int *provided);
    typealias InitThread = @convention(c) (UnsafeMutablePointer<Int32>?, OpaquePointer?, Int32,
                                           UnsafeMutablePointer<Int32>) -> Int32
    // int MPI_Finalize(void);
    typealias Finalize = @convention(c) () -> Int32
    // int MPI_Comm_rank(MPI_Comm comm, int *rank);  and MPI_Comm_size, alike
    typealias CommQuery = @convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32
    // int MPI_Iallreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype,
    //                    MPI_Op op, MPI_Comm comm, MPI_Request *request);
    typealias Iallreduce = @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, Handle, Handle, Handle,
                                           UnsafeMutablePointer<Request>) -> Int32
    // int MPI_Iallgatherv(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
    //                     const int recvcounts[], const int displs[], MPI_Datatype recvtype,
    //                     MPI_Comm comm, MPI_Request *request);
    typealias Iallgatherv = @convention(c) (UnsafeRawPointer?, Int32, Handle?, UnsafeMutableRawPointer?,
                                            UnsafePointer<Int32>, UnsafePointer<Int32>, Handle, Handle,
                                            UnsafeMutablePointer<Request>) -> Int32
    // int MPI_Isend(const void *buf, int count, MPI_Datatype datatype, int dest, int tag,
    //               MPI_Comm comm, MPI_Request *request);
    typealias Isend = @convention(c) (UnsafeRawPointer?, Int32, Handle, Int32, Int32, Handle,
                                      UnsafeMutablePointer<Request>) -> Int32
    // int MPI_Irecv(void *buf, int count, MPI_Datatype datatype, int source, int tag,
    //               MPI_Comm comm, MPI_Request *request);
    typealias Irecv = @convention(c) (UnsafeMutableRawPointer?, Int32, Handle, Int32, Int32, Handle,
                                      UnsafeMutablePointer<Request>) -> Int32
    // int MPI_Testall(int count, MPI_Request array_of_requests[], int *flag, MPI_Status array_of_statuses[]);
    typealias Testall = @convention(c) (Int32, UnsafeMutablePointer<Request>, UnsafeMutablePointer<Int32>,
                                        UnsafeMutableRawPointer?) -> Int32
    // int MPI_Cancel(MPI_Request *request);
    typealias Cancel = @convention(c) (UnsafeMutablePointer<Request>) -> Int32
    // int MPI_Abort(MPI_Comm comm, int errorcode);
    typealias Abort = @convention(c) (Handle, Int32) -> Int32
    // int MPI_Get_library_version(char *version, int *resultlen);
    typealias LibraryVersion = @convention(c) (UnsafeMutablePointer<CChar>, UnsafeMutablePointer<Int32>) -> Int32

    let initThread: InitThread
    let finalize: Finalize
    let commRank: CommQuery
    let commSize: CommQuery
    let iallreduce: Iallreduce
    let iallgatherv: Iallgatherv
    let isend: Isend
    let irecv: Irecv
    let testall: Testall
    let cancel: Cancel
    let abort: Abort
    let libraryVersion: LibraryVersion

    /// MPI_COMM_WORLD, MPI_FLOAT, MPI_BYTE, MPI_SUM.
    let commWorld: Handle
    let float: Handle
    let byte: Handle
    let sum: Handle
    /// MPI_IN_PLACE.
    static let inPlace = UnsafeMutableRawPointer(bitPattern: 1)
    /// MPI_ANY_SOURCE.
    static let anySource: Int32 = -1
    /// MPI_THREAD_SERIALIZED (enum in mpi.h: SINGLE 0, FUNNELED 1, SERIALIZED 2, MULTIPLE 3).
    static let threadSerialized: Int32 = 2
    /// MPI_MAX_LIBRARY_VERSION_STRING.
    static let maxLibraryVersion = 256

    /// The file the library was loaded from (as the loader resolved it).
    let path: String

    /// The library to load: `ULMFIT_MPI_LIBRARY` when set, else Open MPI's soname, found by the
    /// dynamic loader (LD_LIBRARY_PATH, then the system paths: what `module load openmpi` sets up).
    static let defaultName = "libmpi.so.40"

    /// Loads the library and resolves every symbol.
    /// - Parameter launch: how the job was started, for the error message.
    /// - Throws: `ClusterError.libraryNotFound` or `.notOpenMPI`.
    init(name: String, launch: String) throws {
        // RTLD_GLOBAL: Open MPI's plugins (dlopened by libmpi itself) resolve symbols of libmpi.
        guard let library = dlopen(name, RTLD_NOW | RTLD_GLOBAL) else {
            throw ClusterError.libraryNotFound(library: name, reason: dlerror().map { String(cString: $0) } ?? "dlopen failed",
                                               launch: launch)
        }
        func symbol(_ name: String) throws -> UnsafeMutableRawPointer {
            guard let address = dlsym(library, name) else { throw ClusterError.notOpenMPI(library: name, symbol: name) }
            return address
        }
        func function<F>(_ name: String, _ type: F.Type) throws -> F { unsafeBitCast(try symbol(name), to: type) }
        do {
            commWorld = Handle(try symbol("ompi_mpi_comm_world"))
            float = Handle(try symbol("ompi_mpi_float"))
            byte = Handle(try symbol("ompi_mpi_byte"))
            sum = Handle(try symbol("ompi_mpi_op_sum"))
            initThread = try function("MPI_Init_thread", InitThread.self)
            finalize = try function("MPI_Finalize", Finalize.self)
            commRank = try function("MPI_Comm_rank", CommQuery.self)
            commSize = try function("MPI_Comm_size", CommQuery.self)
            iallreduce = try function("MPI_Iallreduce", Iallreduce.self)
            iallgatherv = try function("MPI_Iallgatherv", Iallgatherv.self)
            isend = try function("MPI_Isend", Isend.self)
            irecv = try function("MPI_Irecv", Irecv.self)
            testall = try function("MPI_Testall", Testall.self)
            cancel = try function("MPI_Cancel", Cancel.self)
            abort = try function("MPI_Abort", Abort.self)
            libraryVersion = try function("MPI_Get_library_version", LibraryVersion.self)
        } catch ClusterError.notOpenMPI(_, let missing) {
            throw ClusterError.notOpenMPI(library: name, symbol: missing)
        }
        path = MPILibrary.loadedPath(of: name) ?? name
    }

    /// The file the loader mapped for `name` (its file name, after the last slash), read from
    /// /proc/self/maps (glibc's dladdr needs _GNU_SOURCE, which Swift's Glibc module does not set).
    private static func loadedPath(of name: String) -> String? {
        let file = name.split(separator: "/").last.map(String.init) ?? name
        // procfs files report size 0: read to the end rather than by size.
        guard let data = FileHandle(forReadingAtPath: "/proc/self/maps")?.readDataToEndOfFile() else { return nil }
        let maps = String(decoding: data, as: UTF8.self)
        for line in maps.split(separator: "\n") {
            guard let slash = line.firstIndex(of: "/") else { continue }
            let path = String(line[slash...])
            if path.hasSuffix("/" + file) || path.contains("/" + file + ".") { return path }
        }
        return nil
    }

    /// "Open MPI v4.1.4" (the library's own words, up to the first comma).
    var version: String {
        var buffer = [CChar](repeating: 0, count: MPILibrary.maxLibraryVersion + 1)
        var length: Int32 = 0
        guard libraryVersion(&buffer, &length) == 0 else { return "unknown version" }
        let text = String(cString: buffer)
        return String(text.prefix { $0 != "," && $0 != "\n" })
    }
}
