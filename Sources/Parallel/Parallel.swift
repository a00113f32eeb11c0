// Parallel module
