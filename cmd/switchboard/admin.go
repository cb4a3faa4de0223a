package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"switchboard"
	"switchboard/config"
	"switchboard/server"
	"switchboard/store"
)

// ensureFirstAdmin creates the admin named by SWITCHBOARD_ADMIN_EMAIL/PASSWORD when no agent has that
// email yet, and warns when the database has no agent at all.
func ensureFirstAdmin(ctx context.Context, cfg *config.Config, st *store.Store, log *slog.Logger) error {
	if cfg.AdminEmail == "" {
		n, err := st.CountAgents(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			log.Warn("no agents yet: set SWITCHBOARD_ADMIN_EMAIL and SWITCHBOARD_ADMIN_PASSWORD, or run `switchboard admin create`")
		}
		return nil
	}
	if _, err := st.AgentByEmail(ctx, cfg.AdminEmail); err == nil {
		return nil
	} else if !switchboard.IsCode(err, switchboard.ENOTFOUND) {
		return err
	}
	a, err := createAdmin(ctx, st, "Admin", cfg.AdminEmail, cfg.AdminPassword)
	if err != nil {
		return fmt.Errorf("create the first admin from SWITCHBOARD_ADMIN_EMAIL: %w", err)
	}
	log.Info("created the first admin", "email", a.Email)
	return nil
}

func createAdmin(ctx context.Context, st *store.Store, name, email, password string) (*switchboard.Agent, error) {
	if err := switchboard.ValidatePassword("password", password); err != nil {
		return nil, err
	}
	hash, err := server.HashPassword(password)
	if err != nil {
		return nil, err
	}
	a := &switchboard.Agent{Name: name, Email: email, Role: switchboard.RoleAdmin, PasswordHash: hash}
	if err := st.CreateAgent(ctx, a); err != nil {
		return nil, err
	}
	return a, nil
}

// admin runs `switchboard admin create`.
func admin(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: switchboard admin create -email EMAIL -name NAME [-password PASSWORD | -password -]")
	}
	fs := flag.NewFlagSet("admin create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "the admin's email (required)")
	name := fs.String("name", "Admin", "the admin's name")
	password := fs.String("password", "", `the password; "-" reads it from standard input; empty uses SWITCHBOARD_ADMIN_PASSWORD`)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	pw := *password
	switch pw {
	case "-":
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		pw = strings.TrimRight(line, "\r\n")
	case "":
		pw = getenv("SWITCHBOARD_ADMIN_PASSWORD")
	}
	if *email == "" {
		return errors.New("admin create: -email is required")
	}
	cfg, err := config.Load(getenv, nil)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	log := newLogger(cfg, stderr)
	st, err := openStore(ctx, cfg, switchboard.SystemClock{}, log)
	if err != nil {
		return err
	}
	defer st.Close()
	a, err := createAdmin(ctx, st, *name, *email, pw)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created admin %s <%s> (id %d)\n", a.Name, a.Email, a.ID)
	return nil
}

// migrate applies pending migrations and exits (opening the store applies them).
func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.Load(getenv, args)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	st, err := openStore(ctx, cfg, switchboard.SystemClock{}, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintln(stdout, "migrations applied")
	return nil
}
