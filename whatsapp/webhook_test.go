package whatsapp

import (
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestVerifyHandshake(t *testing.T) {
	q := func(mode, token, challenge string) url.Values {
		v := url.Values{}
		for k, val := range map[string]string{"hub.mode": mode, "hub.verify_token": token, "hub.challenge": challenge} {
			if val != "" {
				v.Set(k, val)
			}
		}
		return v
	}
	tests := []struct {
		name      string
		query     url.Values
		token     string
		challenge string
		ok        bool
	}{
		{"match", q("subscribe", "s3cret", "1158201444"), "s3cret", "1158201444", true},
		{"challenge echoed verbatim", q("subscribe", "s3cret", " 0042 abc"), "s3cret", " 0042 abc", true},
		{"wrong token", q("subscribe", "guess", "1"), "s3cret", "", false},
		{"token prefix", q("subscribe", "s3cre", "1"), "s3cret", "", false},
		{"wrong mode", q("unsubscribe", "s3cret", "1"), "s3cret", "", false},
		{"no mode", q("", "s3cret", "1"), "s3cret", "", false},
		{"no challenge", q("subscribe", "s3cret", ""), "s3cret", "", false},
		{"empty configured token never matches", q("subscribe", "", "1"), "", "", false},
		{"empty configured token, any sent", q("subscribe", "x", "1"), "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			challenge, ok := VerifyHandshake(tt.query, tt.token)
			if challenge != tt.challenge || ok != tt.ok {
				t.Errorf("VerifyHandshake = %q, %v; want %q, %v", challenge, ok, tt.challenge, tt.ok)
			}
		})
	}
}

func TestSignKnownAnswer(t *testing.T) {
	// RFC 4231 test case 2.
	got := Sign([]byte("what do ya want for nothing?"), "Jefe")
	want := "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
	if got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestVerifySignature(t *testing.T) {
	const secret = "app-secret-0123"
	body := readFixture(t, "text")
	good := Sign(body, secret)
	tests := []struct {
		name   string
		body   []byte
		header string
		secret string
		want   error
	}{
		{"right", body, good, secret, nil},
		{"surrounding spaces", body, "  " + good + " ", secret, nil},
		{"uppercase hex", body, "sha256=" + strings.ToUpper(strings.TrimPrefix(good, "sha256=")), secret, nil},
		{"wrong secret", body, good, "other-secret", ErrSignatureInvalid},
		{"tampered body", append([]byte(" "), body...), good, secret, ErrSignatureInvalid},
		{"missing", body, "", secret, ErrSignatureMissing},
		{"no prefix", body, strings.TrimPrefix(good, "sha256="), secret, ErrSignatureInvalid},
		{"sha1 prefix", body, "sha1=" + strings.TrimPrefix(good, "sha256="), secret, ErrSignatureInvalid},
		{"not hex", body, "sha256=zz" + good[9:], secret, ErrSignatureInvalid},
		{"short digest", body, good[:len(good)-2], secret, ErrSignatureInvalid},
		{"long digest", body, good + "00", secret, ErrSignatureInvalid},
		{"empty secret", body, Sign(body, ""), "", ErrSignatureInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifySignature(tt.body, tt.header, tt.secret)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("VerifySignature = %v, want %v", err, tt.want)
			}
			if errors.Is(err, ErrSignatureMissing) && errors.Is(err, ErrSignatureInvalid) {
				t.Fatalf("sentinels must be distinct: %v", err)
			}
		})
	}
}

// TestVerifySignatureUnicodeEscaped follows Meta's note: the signature covers the escaped-unicode
// bytes as sent, so the raw body verifies and a decoded, re-encoded body does not.
func TestVerifySignatureUnicodeEscaped(t *testing.T) {
	const secret = "app-secret-0123"
	raw := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":` +
		`{"messages":[{"id":"wamid.U","type":"text","text":{"body":"\u00e4\u00f6\u00e5 \ud83d\udc4d"}}]}}]}]}`)
	header := Sign(raw, secret)
	if err := VerifySignature(raw, header, secret); err != nil {
		t.Fatalf("raw escaped body: %v", err)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	reencoded, _ := json.Marshal(v)
	if err := VerifySignature(reencoded, header, secret); !errors.Is(err, ErrSignatureInvalid) {
		t.Fatalf("re-encoded body verified: %v", err)
	}
	wh, err := ParseWebhook(raw)
	if err != nil || wh.Changes[0].Messages[0].Text != "äöå 👍" {
		t.Fatalf("parse of escaped body = %+v, %v", wh, err)
	}
}

// seedFixtures adds every testdata fixture to a fuzz corpus.
func seedFixtures(f *testing.F, add func(body []byte)) {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no fixtures: %v", err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		add(b)
	}
}

// FuzzParseWebhook checks that no body makes the parser panic, that it fails only for the two
// documented reasons, and that every message and status it returns keeps its original item.
func FuzzParseWebhook(f *testing.F) {
	seedFixtures(f, func(b []byte) { f.Add(b) })
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"type":"interactive","interactive":{"type":"nfm_reply","nfm_reply":null}}]}}]}]}`))
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"statuses":[{"timestamp":-1e309}]}}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		wh, err := ParseWebhook(body)
		if err != nil {
			if err != ErrInvalidWebhook && err != ErrNotWhatsApp {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		for _, c := range wh.Changes {
			for _, m := range c.Messages {
				if !json.Valid(m.Raw) {
					t.Fatalf("message Raw is not JSON: %q", m.Raw)
				}
				if !utf8.ValidString(m.ID + m.From + m.Type + m.Text) {
					t.Fatalf("invalid UTF-8 in %+v", m)
				}
			}
			for _, s := range c.Statuses {
				if !json.Valid(s.Raw) || s.Rank() < RankUnknown || s.Rank() > RankFailed {
					t.Fatalf("status %+v", s)
				}
				for _, e := range s.Errors {
					_ = Classify(e)
				}
			}
		}
	})
}

// FuzzVerifySignature checks that verification never panics, that Sign's output always verifies, and
// that a header accepted for one secret is rejected for another.
func FuzzVerifySignature(f *testing.F) {
	seedFixtures(f, func(b []byte) {
		f.Add(b, Sign(b, "app-secret"), "app-secret")
		f.Add(b, "sha256=00", "app-secret")
	})
	f.Add([]byte{}, "", "")
	f.Add([]byte("x"), "sha256=", "s")
	f.Add([]byte("x"), "sha256=ZZZZ", "s")
	f.Fuzz(func(t *testing.T, body []byte, header, secret string) {
		err := VerifySignature(body, header, secret)
		if err == nil && (header == "" || secret == "") {
			t.Fatalf("accepted header %q with secret %q", header, secret)
		}
		if err == nil {
			if VerifySignature(body, header, secret+"x") == nil {
				t.Fatal("the same header verified under two secrets")
			}
		}
		if secret != "" {
			if err := VerifySignature(body, Sign(body, secret), secret); err != nil {
				t.Fatalf("Sign output rejected: %v", err)
			}
		}
	})
}

func BenchmarkParseWebhook(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("testdata", "batch_two_contacts.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := ParseWebhook(body); err != nil {
			b.Fatal(err)
		}
	}
}
