// A dependency for tanto's test of Go modules calling other modules.
package main

import (
	"strings"

	"dagger/shouter/internal/dagger"
)

// Shouts
type Shouter struct{}

// Shouts a message
func (s *Shouter) Shout(msg string) string {
	return strings.ToUpper(msg) + "!"
}

// A container that shouts a message
func (s *Shouter) Box(msg string) *dagger.Container {
	return dag.Container().From("busybox").WithExec([]string{"echo", strings.ToUpper(msg)})
}
