package migrations

// Files exposes the embedded SQL to the package's external tests, which
// apply it step by step.
var Files = files
