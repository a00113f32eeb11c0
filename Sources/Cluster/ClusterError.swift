/// Why a multi-process job could not start. Raised before any training work; each message
/// names the variable, library or rank at fault and what to do.
public enum ClusterError: Error, Equatable, CustomStringConvertible {
    /// A launcher variable is present but unusable.
    case badEnvironment(variable: String, value: String, reason: String)
    /// Started by a launcher for several processes, but no MPI library could be loaded.
    case libraryNotFound(library: String, reason: String, launch: String)
    /// The loaded library lacks a symbol of Open MPI's ABI (another MPI, or too old).
    case notOpenMPI(library: String, symbol: String)
    /// MPI cannot give the thread support the trainer needs.
    case threadSupport(provided: Int32)
    /// The launcher and the MPI library disagree on the job (the library is not the launcher's).
    case launchMismatch(launch: String, mpiRank: Int, mpiSize: Int, library: String)
    /// An MPI call failed while joining the job.
    case mpiFailed(call: String, code: Int32)
    /// A bad `--mpi-timeout` or `ULMFIT_MPI_TIMEOUT`.
    case badTimeout(String)

    public var description: String {
        switch self {
        case let .badEnvironment(variable, value, reason):
            return "launcher variable \(variable)=\(value): \(reason)"
        case let .libraryNotFound(library, reason, launch):
            return "\(launch), but the MPI library \(library) could not be loaded (\(reason)): install Open MPI "
                + "(Debian: apt-get install openmpi-bin libopenmpi-dev; a cluster: module load openmpi), or set "
                + "ULMFIT_MPI_LIBRARY to the path of its libmpi.so.40"
        case let .notOpenMPI(library, symbol):
            return "\(library) has no symbol \(symbol): ulmfit talks to Open MPI 3.0 or later (libmpi.so.40); "
                + "MPICH-family libraries (MPICH, Intel MPI, Cray MPICH) use another ABI"
        case let .threadSupport(provided):
            return "MPI provides thread level \(provided), below MPI_THREAD_SERIALIZED (2) which the trainer needs"
        case let .launchMismatch(launch, mpiRank, mpiSize, library):
            return "\(launch), but MPI (\(library)) sees rank \(mpiRank) of \(mpiSize): the library is not the "
                + "launcher's (e.g. MPICH's mpiexec with Open MPI's library); launch with the mpirun of the "
                + "same Open MPI, or srun --mpi=pmix"
        case let .mpiFailed(call, code):
            return "\(call) failed with error code \(code) while joining the MPI job"
        case let .badTimeout(text):
            return "MPI timeout \(text): give a number of seconds > 0"
        }
    }
}
