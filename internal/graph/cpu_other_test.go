//go:build !unix

package graph_test

import "time"

// processCPU is unknown here; the benchmark leaves cpu-ms/write out.
func processCPU() time.Duration { return 0 }
