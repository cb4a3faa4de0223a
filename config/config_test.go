package config

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func getenv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadDefaults(t *testing.T) {
	cfg, err := Load(getenv(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != ":8080" || cfg.DataDir != "./data" || cfg.PublicURL != "http://localhost:8080" {
		t.Fatalf("unexpected defaults: %+v", cfg)
	}
	if !cfg.Embedded() || !cfg.SandboxEnabled() || cfg.SQLitePath() != filepath.Join("data", "switchboard.db") {
		t.Fatal("embedded mode must default to SQLite with the sandbox on")
	}
}

func TestLoadPostgresTurnsSandboxOff(t *testing.T) {
	cfg, err := Load(getenv(map[string]string{"DATABASE_URL": "postgres://u:p@db:5432/sb"}), []string{"-addr", "127.0.0.1:9000"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Embedded() || cfg.SandboxEnabled() || cfg.Addr != "127.0.0.1:9000" {
		t.Fatalf("got %+v", cfg)
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	_, err := Load(getenv(map[string]string{
		"DATABASE_URL":                "postgres://u:p@[::1:5432/db",
		"SWITCHBOARD_ADDR":            ":99999",
		"SWITCHBOARD_LOG_LEVEL":       "chatty",
		"SWITCHBOARD_WORKERS":         "many",
		"SWITCHBOARD_DEBUG_ADDR":      "0.0.0.0:6060",
		"SWITCHBOARD_INGEST_QUEUES":   "-1",
		"SWITCHBOARD_TRUSTED_PROXIES": "10.0.0.1, proxy.local",
	}), nil)
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	msg := err.Error()
	for _, want := range []string{"DATABASE_URL", "SWITCHBOARD_ADDR", "SWITCHBOARD_LOG_LEVEL", "SWITCHBOARD_WORKERS", "SWITCHBOARD_DEBUG_ADDR", "SWITCHBOARD_INGEST_QUEUES", "SWITCHBOARD_TRUSTED_PROXIES"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not name %s:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "u:p@") {
		t.Errorf("error leaks the database password:\n%s", msg)
	}
}

func TestLogValueRedactsSecrets(t *testing.T) {
	cfg := Config{DatabaseURL: "postgres://sb:hunter2@db/sb?sslmode=disable", SecretKey: strings.Repeat("ab", 32),
		AdminPassword: "correct-horse", OpenAIAPIKey: "sk-live-123", Sandbox: "false"}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "config", cfg)
	out := buf.String()
	for _, secret := range []string{"hunter2", strings.Repeat("ab", 32), "correct-horse", "sk-live-123"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains secret %q: %s", secret, out)
		}
	}
	if !strings.Contains(out, "sb:xxxxx@db") {
		t.Errorf("database URL not shown redacted: %s", out)
	}
}

func TestSecretKeyGeneratedOnceAndReused(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{DataDir: dir}
	k1, err := cfg.SecretKeyBytes()
	if err != nil {
		t.Fatal(err)
	}
	k2, err := cfg.SecretKeyBytes()
	if err != nil || !bytes.Equal(k1, k2) || len(k1) != KeySize {
		t.Fatalf("key not stable: %v", err)
	}
	st, err := os.Stat(filepath.Join(dir, "secret.key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", st.Mode(), err)
	}
	if _, err := DecodeKey("short"); err == nil {
		t.Fatal("short key accepted")
	}
}

func TestDebugAddrIsLoopbackOnly(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:6060": true, "localhost:6060": true, "[::1]:6060": true,
		"0.0.0.0:6060": false, ":6060": false, "10.0.0.5:6060": false, "127.0.0.1": false} {
		_, err := Load(getenv(map[string]string{"SWITCHBOARD_DEBUG_ADDR": addr}), nil)
		if (err == nil) != ok {
			t.Errorf("%q: err %v, want accepted %v", addr, err, ok)
		}
	}
}

func TestTrustedProxies(t *testing.T) {
	cfg, err := Load(getenv(map[string]string{"SWITCHBOARD_TRUSTED_PROXIES": " 10.0.0.0/8, 192.168.1.10 ,::1,"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	nets, err := cfg.TrustedProxyNets()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range nets {
		got = append(got, n.String())
	}
	if want := "10.0.0.0/8 192.168.1.10/32 ::1/128"; strings.Join(got, " ") != want {
		t.Errorf("trusted proxies = %v, want %s", got, want)
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy", "10.0.0"} {
		if _, err := Load(getenv(map[string]string{"SWITCHBOARD_TRUSTED_PROXIES": bad}), nil); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
