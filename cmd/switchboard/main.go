// Command switchboard runs the Switchboard server and its administration commands.
//
//	switchboard [serve] [flags]          run the server (the default)
//	switchboard admin create ...         create an admin account
//	switchboard migrate                  apply database migrations and exit
//	switchboard healthcheck              probe the local server's /readyz (container health checks)
//	switchboard version                  print the version
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // IANA time zones for business hours, in any container image
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "switchboard:", err)
		os.Exit(1)
	}
}

// run is the whole program; tests call it with their own arguments, environment and streams.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stdout, stderr)
	case "admin":
		return admin(ctx, args, getenv, stdin, stdout, stderr)
	case "migrate":
		return migrate(ctx, args, getenv, stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, getenv, stdout)
	case "version":
		fmt.Fprintln(stdout, "switchboard", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

const usage = `usage:
  switchboard [serve] [-addr :8080] [-data-dir ./data] [-database-url postgres://...] [-public-url URL]
  switchboard admin create -email EMAIL -name NAME [-password PASSWORD | -password -]   ("-" reads stdin)
  switchboard migrate
  switchboard healthcheck        (exit 0 when the local server's /readyz answers 200; for containers)
  switchboard version
Configuration comes from the environment (SWITCHBOARD_*, DATABASE_URL); see README.md.
`
