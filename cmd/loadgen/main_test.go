package main

import (
	"bytes"
	"flag"
	"strings"
	"testing"
)

// TestRunRefusesBadInvocations: the command explains what is missing before it touches any server.
func TestRunRefusesBadInvocations(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown mode", []string{"stampede"}, `unknown mode "stampede"`},
		{"no credentials", []string{"run"}, "admin credentials are required"},
		{"no credentials for idle", []string{"idle"}, "admin credentials are required"},
		{"bad mix", []string{"run", "-admin-token", "sbt_x", "-mix", "text=70,video=30"}, `unknown kind "video"`},
		{"unknown flag", []string{"run", "-speed", "11"}, "flag provided but not defined"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(t.Context(), tc.args, getenv, &out, &errOut)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("run(%v) = %v, want an error containing %q", tc.args, err, tc.want)
			}
		})
	}
	var out bytes.Buffer
	if err := run(t.Context(), []string{"help"}, getenv, &out, &out); err != nil || !strings.Contains(out.String(), "usage: loadgen") {
		t.Fatalf("help: %v %q", err, out.String())
	}
	// Credentials may come from the environment instead of flags.
	env["SWITCHBOARD_ADMIN_EMAIL"], env["SWITCHBOARD_ADMIN_PASSWORD"] = "admin@example.com", "pw"
	var c common
	fs := flag.NewFlagSet("loadgen run", flag.ContinueOnError)
	c.register(fs, getenv, 3)
	if err := fs.Parse(nil); err != nil || c.check() != nil || c.email != "admin@example.com" || c.agents != 3 {
		t.Fatalf("credentials from the environment: %+v %v", c, c.check())
	}
}
