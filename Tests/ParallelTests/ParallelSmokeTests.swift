import Testing
@testable import Parallel
