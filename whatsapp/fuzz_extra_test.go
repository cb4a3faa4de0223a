package whatsapp

import (
	"crypto/sha256"
	"errors"
	"net/url"
	"strings"
	"testing"
)

// The webhook_test.go fuzz targets cover the parser and the signature check's own contract; these add
// what they leave out: the GET handshake, and that a signature binds the exact bytes (any change to
// the body, however small, is refused).

// FuzzVerifyHandshake checks, for any query string and configured verify token, that the handshake
// succeeds exactly when the mode is "subscribe", a challenge is present and the token is the
// configured (non-empty) one, and that it then echoes the challenge unchanged.
func FuzzVerifyHandshake(f *testing.F) {
	f.Add("hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock", "meatyhamhock")
	f.Add("hub.mode=subscribe&hub.challenge=abc&hub.verify_token=", "")
	f.Add("hub.mode=SUBSCRIBE&hub.challenge=abc&hub.verify_token=t", "t")
	f.Add("hub.mode=subscribe&hub.mode=unsubscribe&hub.challenge=%00&hub.verify_token=t%20", "t ")
	f.Add("hub.verify_token=t&hub.verify_token=u&hub.mode=subscribe&hub.challenge=c", "u")
	f.Add("%zz&hub.mode=subscribe", "x")
	f.Fuzz(func(t *testing.T, rawQuery, verifyToken string) {
		q, _ := url.ParseQuery(rawQuery) // a malformed pair is dropped, as net/http does
		challenge, ok := VerifyHandshake(q, verifyToken)
		should := verifyToken != "" && q.Get("hub.mode") == "subscribe" && q.Get("hub.challenge") != "" &&
			q.Get("hub.verify_token") == verifyToken
		if ok != should {
			t.Fatalf("VerifyHandshake(%q, %q) = %v, want %v", rawQuery, verifyToken, ok, should)
		}
		if ok && challenge != q.Get("hub.challenge") {
			t.Fatalf("challenge %q echoed as %q", q.Get("hub.challenge"), challenge)
		}
		if !ok && challenge != "" {
			t.Fatalf("a refused handshake returned the challenge %q", challenge)
		}
	})
}

// FuzzSignatureBindsBody checks that a body signed with a secret is refused once any byte of it
// changes, once a byte is added or removed, and under any other secret; and that every refusal wraps
// ErrSignatureInvalid.
func FuzzSignatureBindsBody(f *testing.F) {
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[]}`), "app-secret", uint(7), byte(1), "other-secret")
	f.Add([]byte("x"), "s", uint(0), byte(0x80), "s2")
	f.Add([]byte(`{"text":"caf\u00e9"}`), "secret", uint(12), byte(0x20), "Secret")
	f.Fuzz(func(t *testing.T, body []byte, secret string, at uint, flip byte, other string) {
		if secret == "" || len(body) == 0 {
			return
		}
		header := Sign(body, secret)
		if err := VerifySignature(body, header, secret); err != nil {
			t.Fatalf("own signature refused: %v", err)
		}
		refused := func(what string, b []byte, h, s string) {
			t.Helper()
			err := VerifySignature(b, h, s)
			if err == nil {
				t.Fatalf("%s was accepted", what)
			}
			if !errors.Is(err, ErrSignatureInvalid) {
				t.Fatalf("%s: error %v does not wrap ErrSignatureInvalid", what, err)
			}
		}
		if flip != 0 {
			changed := append([]byte(nil), body...)
			changed[int(at%uint(len(body)))] ^= flip
			refused("a body with one byte changed", changed, header, secret)
		}
		refused("a body with a byte added", append(append([]byte(nil), body...), ' '), header, secret)
		refused("a body with its last byte removed", body[:len(body)-1], header, secret)
		// HMAC pads short keys with zeros and hashes long ones (RFC 2104), so "s" and "s\x00", or a
		// long key and its SHA-256, are the same key by construction: those are not other secrets.
		if other != "" && strings.TrimRight(other, "\x00") != strings.TrimRight(secret, "\x00") && !hashedKey(secret, other) && !hashedKey(other, secret) {
			refused("the signature under another secret", body, header, other)
		}
		// The header is bound to its digest: a truncated or extended digest is malformed.
		refused("a truncated digest", body, header[:len(header)-2], secret)
		refused("an extended digest", body, header+"00", secret)
	})
}

// hashedKey reports whether short is what HMAC-SHA256 turns the long key into (its digest, zero-padded).
func hashedKey(long, short string) bool {
	if len(long) <= sha256.BlockSize {
		return false
	}
	sum := sha256.Sum256([]byte(long))
	return strings.TrimRight(short, "\x00") == strings.TrimRight(string(sum[:]), "\x00")
}
