//go:build !unix

package credential_test

import "time"

// processCPU is unknown here: the benchmark falls back to wall time.
func processCPU() time.Duration { return 0 }
