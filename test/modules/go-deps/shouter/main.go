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

// One container per message
func (s *Shouter) Boxes(msgs []string) []*dagger.Container {
	out := make([]*dagger.Container, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, s.Box(m))
	}
	return out
}
