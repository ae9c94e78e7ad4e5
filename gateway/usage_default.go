package gateway

import (
	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/usage"
)

// newDefaultUsage returns the in-memory usage recorder used when
// Gateway.Usage is nil (a *usage.Memory, also a usage.Reader).
func newDefaultUsage() signet.UsageRecorder { return &usage.Memory{} }
