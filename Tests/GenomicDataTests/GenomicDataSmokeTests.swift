import Testing
@testable import GenomicData
