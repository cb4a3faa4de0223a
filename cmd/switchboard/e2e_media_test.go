package main

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
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

// TestAgentSendsAPhoto: an image an agent attaches is uploaded to the Graph API and sent by media id
// with its caption (and no filename, which Meta allows on documents only).
func TestAgentSendsAPhoto(t *testing.T) {
	e := startE2E(t, "")
	body, _ := e.fake.Inbound(e.number.PhoneNumberID, graphtest.TextMessage("33612345678", "Marie", "Une photo ?"))
	e.customerSays(body)
	conv := e.conversation("33612345678")
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	part, _ := w.CreatePart(map[string][]string{"Content-Disposition": {`form-data; name="file"; filename="shop.png"`}, "Content-Type": {"image/png"}})
	part.Write([]byte("\x89PNG\r\n\x1a\nshop-front"))
	w.WriteField("caption", "Our shop")
	w.Close()
	req, _ := http.NewRequest("POST", e.base+fmt.Sprintf("/api/v1/conversations/%d/messages", conv), &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("X-CSRF-Token", e.csrf)
	res, err := e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("upload: %d", res.StatusCode)
	}
	got, err := e.fake.WaitForSent(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	m := got[0].Message
	if got[0].Type != "image" || m.Media == nil || m.Media.ID == "" || m.Media.Caption != "Our shop" || m.Media.Filename != "" {
		t.Fatalf("photo sent to Meta: %s", got[0].Body)
	}
}
