package graphtest

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"switchboard/whatsapp"
)

func TestMediaRoundTrip(t *testing.T) {
	h := newHarness(t, Options{})
	photo := bytes.Repeat([]byte{0xff, 0xd8, 0xff, 0xe0}, 512)
	id, err := h.client.UploadMedia(t.Context(), testToken, testPNID, "photo.jpg", "image/jpeg", bytes.NewReader(photo))
	if err != nil || id == "" {
		t.Fatalf("UploadMedia = %q, %v", id, err)
	}
	info, err := h.client.GetMedia(t.Context(), testToken, id)
	if err != nil {
		t.Fatal(err)
	}
	if info.ID != id || info.MimeType != "image/jpeg" || info.FileSize != int64(len(photo)) || !strings.Contains(info.URL, "mid="+id) {
		t.Errorf("info = %+v", info)
	}
	data, err := h.client.DownloadMedia(t.Context(), testToken, info.URL, 0)
	if err != nil || !bytes.Equal(data, photo) || !whatsapp.MediaDigestMatches(data, info.SHA256) {
		t.Fatalf("download: %d bytes, %v, digest %s", len(data), err, info.SHA256)
	}
	if _, err := h.client.DownloadMedia(t.Context(), testToken, info.URL, 100); !errors.Is(err, whatsapp.ErrMediaTooLarge) {
		t.Errorf("limit: %v", err)
	}

	// The download URL needs the same bearer token, like Meta's lookaside URLs.
	h.fake.RegisterNumber(Number{PhoneNumberID: "2", WABAID: testWABA, Token: "other-token"})
	if _, err := h.client.DownloadMedia(t.Context(), "other-token", info.URL, 0); err == nil {
		t.Error("download with another token succeeded")
	}
	resp, err := h.srv.Client().Get(info.URL)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("plain GET of the URL = %v, %v", resp.Status, err)
	}
	resp.Body.Close()

	// It expires after the TTL; a fresh GET /{media-id} gives a working one.
	h.clock.Advance(5*time.Minute + time.Second)
	if _, err := h.client.DownloadMedia(t.Context(), testToken, info.URL, 0); err == nil || whatsapp.Classify(err) != whatsapp.ClassPermanent {
		t.Errorf("expired URL: %v", err)
	}
	info, _ = h.client.GetMedia(t.Context(), testToken, id)
	if _, err := h.client.DownloadMedia(t.Context(), testToken, info.URL, 0); err != nil {
		t.Errorf("fresh URL: %v", err)
	}

	if err := h.client.DeleteMedia(t.Context(), testToken, id); err != nil {
		t.Fatal(err)
	}
	_, err = h.client.GetMedia(t.Context(), testToken, id)
	var ge *whatsapp.GraphError
	if !errors.As(err, &ge) || ge.Code != 100 || ge.Subcode != 33 {
		t.Errorf("GetMedia after delete: %v", err)
	}
}

// TestMediaOwnershipCheck follows Meta's optional phone_number_id query: media uploaded by one number is
// not found when another number is named.
func TestMediaOwnershipCheck(t *testing.T) {
	h := newHarness(t, Options{})
	h.fake.RegisterNumber(Number{PhoneNumberID: "2", WABAID: testWABA, Token: "second-token"})
	id, err := h.client.UploadMedia(t.Context(), testToken, testPNID, "a.png", "image/png", strings.NewReader("png"))
	if err != nil {
		t.Fatal(err)
	}
	get := func(token, owner string) int {
		req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/v25.0/"+id+"?phone_number_id="+owner, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := h.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := get(testToken, testPNID); got != http.StatusOK {
		t.Errorf("owner = %d", got)
	}
	if got := get("second-token", "2"); got != http.StatusBadRequest {
		t.Errorf("other number = %d", got)
	}
	if got := get("second-token", testPNID); got != http.StatusUnauthorized {
		t.Errorf("other number's token for the owner = %d", got)
	}
}

func TestMediaErrors(t *testing.T) {
	h := newHarness(t, Options{})
	h.fake.PutMedia("9001", "image/png", []byte("png"))
	tests := []struct {
		name string
		call func() error
		code int
	}{
		{"get with a wrong token", func() error { _, err := h.client.GetMedia(t.Context(), "nope", "9001"); return err }, 190},
		{"get unknown media", func() error { _, err := h.client.GetMedia(t.Context(), testToken, "404"); return err }, 100},
		{"delete unknown media", func() error { return h.client.DeleteMedia(t.Context(), testToken, "404") }, 100},
		{"upload unsupported type", func() error {
			_, err := h.client.UploadMedia(t.Context(), testToken, testPNID, "a.gif", "image/gif", strings.NewReader("GIF89a"))
			return err
		}, 131053},
		{"upload too large", func() error {
			_, err := h.client.UploadMedia(t.Context(), testToken, testPNID, "s.webp", "image/webp", bytes.NewReader(make([]byte, 600<<10)))
			return err
		}, 131053},
		{"upload to another number", func() error {
			_, err := h.client.UploadMedia(t.Context(), testToken, "555", "a.png", "image/png", strings.NewReader("png"))
			return err
		}, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ge *whatsapp.GraphError
			if err := tt.call(); !errors.As(err, &ge) || ge.Code != tt.code {
				t.Errorf("error = %v, want code %d", err, tt.code)
			}
		})
	}
}
