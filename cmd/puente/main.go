// Command puente runs a Puente node and manages it. See
// [github.com/puente-project/puente/internal/cli] for the commands.
package main

import (
	"context"
	"os"

	"github.com/puente-project/puente/internal/cli"
)

func main() {
	os.Exit(cli.Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
