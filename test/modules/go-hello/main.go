// Greetings, containers and files: a Go module for tanto's tests.
package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"

	"dagger/hello/internal/dagger"
)

// A greeter
type Hello struct {
	// The greeting word
	Greeting string
}

func New(
	// The greeting word
	// +optional
	// +default="hello"
	greeting string,
) *Hello {
	return &Hello{Greeting: greeting}
}

// Greets someone
func (h *Hello) Greet(
	// Who to greet
	// +default="world"
	name string,
) string {
	return fmt.Sprintf("%s, %s!", h.Greeting, name)
}

// Echoes a message in a container
func (h *Hello) Echo(msg string) *dagger.Container {
	return dag.Container().From("busybox").WithExec([]string{"echo", msg})
}

// Runs a command in the given container
func (h *Hello) Run(ctx context.Context, ctr *dagger.Container, args []string) (string, error) {
	return ctr.WithExec(args).Stdout(ctx)
}

// The entries of a directory
func (h *Hello) Ls(ctx context.Context, dir *dagger.Directory) ([]string, error) {
	return dir.Entries(ctx)
}

// The length of a secret
func (h *Hello) SecretLength(ctx context.Context, token *dagger.Secret) (int, error) {
	plain, err := token.Plaintext(ctx)
	return len(plain), err
}

// Joins words
func (h *Hello) Join(
	words []string,
	// The separator
	// +optional
	sep string,
) string {
	return strings.Join(words, sep)
}

// The entries of a directory, by default the module's data
func (h *Hello) Data(
	ctx context.Context,
	// +defaultPath="data"
	dir *dagger.Directory,
) ([]string, error) {
	return dir.Entries(ctx)
}

// How loud
type Level string

const (
	// Quietly
	Low Level = "LOW"
	// Loudly
	High Level = "HIGH"
)

// Says something at a level
func (h *Hello) Say(level Level, msg string) string {
	if level == High {
		return strings.ToUpper(msg) + "!"
	}
	return strings.ToLower(msg)
}

// A greeter for one name
func (h *Hello) For(name string) *Greeter {
	return &Greeter{Name: name, Greeting: h.Greeting, Box: dag.Container().From("busybox")}
}

// Greets one name
type Greeter struct {
	Name     string
	Greeting string
	Box      *dagger.Container
}

// The greeting, said in the greeter's container
func (g *Greeter) Message(ctx context.Context) (string, error) {
	return g.Box.WithExec([]string{"echo", g.Greeting + ", " + g.Name}).Stdout(ctx)
}

// A new random number on every call
// +cache="never"
func (h *Hello) Nonce() string {
	return fmt.Sprint(rand.Int64())
}

// Fails
func (h *Hello) Boom() error {
	return errors.New("it broke")
}
