// Command accountd is the accountd server, its operator commands and its
// client commands, in one binary.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/accountd/accountd/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Environ(), os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
