import Reporting

/// A training run's two metrics logs, `metrics` (per step) and `valid` (per validation):
/// created new, or continued after the rows a resumed checkpoint counted (rows written after
/// it are dropped, so the continued files equal those of a run that was never interrupted).
final class RunLogs {
    let metrics: MetricsLog
    let valid: MetricsLog

    init(directory: String, resume: RunState?, log: (String) -> Void) throws {
        if let resume {
            metrics = try MetricsLog(continuing: directory, name: "metrics", rows: resume.logRows["metrics"] ?? 0)
            valid = try MetricsLog(continuing: directory, name: "valid", rows: resume.logRows["valid"] ?? 0)
            for file in [metrics, valid] where file.missingRows > 0 {
                log("warning: \(file.jsonlPath) holds \(file.missingRows) rows fewer than the checkpoint counted "
                    + "(lost after it was written?); the log continues without them")
            }
        } else {
            metrics = try MetricsLog(directory: directory, name: "metrics")
            valid = try MetricsLog(directory: directory, name: "valid")
        }
    }

    /// Rows written to each log so far, for the checkpoint.
    var rows: [String: Int] { ["metrics": metrics.rowCount, "valid": valid.rowCount] }
}
