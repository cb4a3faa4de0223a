package main

import (
	"fmt"
	"io"
	"net/http"
	"testing"

	"switchboard"
	"switchboard/whatsapp/graphtest"
)

// TestInboundMediaIsDownloaded: a customer's photo is fetched from the Graph API by a job (GET
// /{media-id} → URL → bytes with the token), verified, stored, and served to signed-in agents only.
func TestInboundMediaIsDownloaded(t *testing.T) {
	e := startE2E(t, "")
	photo := []byte("\x89PNG\r\n\x1a\nnot-really-a-png-but-bytes")
	sha := e.fake.PutMedia("1234567890123456", "image/png", photo)
	body, _ := e.fake.Inbound(e.number.PhoneNumberID, graphtest.MediaMessage("33612345678", "Marie",
		graphtest.InboundMedia{Kind: "image", ID: "1234567890123456", MimeType: "image/png", SHA256: sha, Caption: "the broken part"}))
	e.customerSays(body)
	conv := e.conversation("33612345678")
	var img switchboard.Message
	e.eventually("the photo to be downloaded", func() bool {
		for _, m := range e.messages(conv) {
			if m.Type == "image" && m.Media != nil && m.Media.Status == switchboard.MediaReady {
				img = m
				return true
			}
		}
		return false
	})
	if img.Text != "the broken part" || img.Media.Size != int64(len(photo)) {
		t.Fatalf("image message: %+v %+v", img, img.Media)
	}
	res, err := e.http.Get(e.base + fmt.Sprintf("/api/v1/messages/%d/media", img.ID))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || string(got) != string(photo) || res.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("media served: %d %q %v", res.StatusCode, got, res.Header)
	}
	anon, _ := http.Get(e.base + fmt.Sprintf("/api/v1/messages/%d/media", img.ID))
	anon.Body.Close()
	if anon.StatusCode != http.StatusUnauthorized {
		t.Fatalf("media without a session: %d", anon.StatusCode)
	}
}
