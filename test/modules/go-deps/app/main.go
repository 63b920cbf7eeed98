// A Go module that calls its dependency (shouter) through dag.
package main

import (
	"context"
	"strings"
)

type App struct{}

// Shouts through the dependency
func (a *App) Loud(ctx context.Context, msg string) (string, error) {
	return dag.Shouter().Shout(ctx, msg)
}

// The output of the dependency's container
func (a *App) BoxOut(ctx context.Context, msg string) (string, error) {
	return dag.Shouter().Box(msg).Stdout(ctx)
}

// The outputs of the dependency's containers, one per message
func (a *App) BoxesOut(ctx context.Context, msgs []string) (string, error) {
	boxes, err := dag.Shouter().Boxes(ctx, msgs)
	if err != nil {
		return "", err
	}
	var outs []string
	for _, b := range boxes {
		out, err := b.Stdout(ctx)
		if err != nil {
			return "", err
		}
		outs = append(outs, strings.TrimSpace(out))
	}
	return strings.Join(outs, " "), nil
}
