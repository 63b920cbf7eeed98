// A Go module that calls its dependency (shouter) through dag.
package main

import "context"

type App struct{}

// Shouts through the dependency
func (a *App) Loud(ctx context.Context, msg string) (string, error) {
	return dag.Shouter().Shout(ctx, msg)
}

// The output of the dependency's container
func (a *App) BoxOut(ctx context.Context, msg string) (string, error) {
	return dag.Shouter().Box(msg).Stdout(ctx)
}
