package whatsapp

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestGetMediaFileSizeTolerance(t *testing.T) {
	for _, size := range []string{`"303833"`, `303833`, `303833.0`} {
		stub := newGraphStub(t, http.StatusOK, `{"messaging_product":"whatsapp","url":"https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1",`+
			`"mime_type":"image/jpeg","sha256":"q1Zk","file_size":`+size+`,"id":"2621233374848975"}`)
		info, err := stub.client().GetMedia(t.Context(), "tok", "2621233374848975")
		if err != nil {
			t.Fatalf("file_size %s: %v", size, err)
		}
		want := MediaInfo{ID: "2621233374848975", URL: "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1",
			MimeType: "image/jpeg", SHA256: "q1Zk", FileSize: 303833}
		if info != want {
			t.Errorf("file_size %s: %+v", size, info)
		}
		r := stub.last(t)
		if r.Method != http.MethodGet || r.Path != "/v25.0/2621233374848975" || r.Header.Get("Authorization") != "Bearer tok" {
			t.Errorf("request = %s %s %q", r.Method, r.Path, r.Header.Get("Authorization"))
		}
	}
}

func TestDownloadMedia(t *testing.T) {
	payload := bytes.Repeat([]byte("JPEG"), 256)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer media-token" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":{"message":"Invalid OAuth access token.","type":"OAuthException","code":190}}`)
			return
		}
		if r.URL.Query().Get("mid") == "chunked" {
			w.(http.Flusher).Flush() // no Content-Length: the limit must hold while reading
		}
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write(payload)
	}))
	defer srv.Close()
	c := NewClient(ClientOptions{HTTPClient: srv.Client()})
	url := srv.URL + "/whatsapp_business/attachments/?mid=1"

	got, err := c.DownloadMedia(t.Context(), "media-token", url, 0)
	if err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("DownloadMedia = %d bytes, %v", len(got), err)
	}
	if got, err := c.DownloadMedia(t.Context(), "media-token", url, int64(len(payload))); err != nil || len(got) != len(payload) {
		t.Errorf("exact limit: %d bytes, %v", len(got), err)
	}
	for _, u := range []string{url, srv.URL + "/whatsapp_business/attachments/?mid=chunked"} {
		if _, err := c.DownloadMedia(t.Context(), "media-token", u, 100); !errors.Is(err, ErrMediaTooLarge) {
			t.Errorf("%s over limit: %v", u, err)
		}
	}
	_, err = c.DownloadMedia(t.Context(), "wrong", url, 0)
	var ge *GraphError
	if !errors.As(err, &ge) || ge.Code != 190 || Classify(err) != ClassTokenInvalid {
		t.Errorf("wrong token: %v", err)
	}
}

func TestUploadMedia(t *testing.T) {
	var form struct {
		product, typ, filename, partType string
		data                             []byte
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if r.URL.Path != "/v25.0/109876543210987/media" || mt != "multipart/form-data" || r.ContentLength <= 0 {
			http.Error(w, fmt.Sprintf("bad request %s %s %d", r.URL.Path, mt, r.ContentLength), http.StatusBadRequest)
			return
		}
		mr := multipart.NewReader(r.Body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			b, _ := io.ReadAll(p)
			switch p.FormName() {
			case "messaging_product":
				form.product = string(b)
			case "type":
				form.typ = string(b)
			case "file":
				form.filename, form.partType, form.data = p.FileName(), p.Header.Get("Content-Type"), b
			}
		}
		io.WriteString(w, `{"id":"4490709327384033"}`)
	}))
	defer srv.Close()
	c := NewClient(ClientOptions{HTTPClient: srv.Client(), BaseURL: srv.URL, Version: "v25.0"})
	id, err := c.UploadMedia(t.Context(), "tok", "109876543210987", `quote "final".pdf`, "application/pdf", strings.NewReader("%PDF-1.7"))
	if err != nil || id != "4490709327384033" {
		t.Fatalf("UploadMedia = %q, %v", id, err)
	}
	if form.product != "whatsapp" || form.typ != "application/pdf" || form.partType != "application/pdf" ||
		form.filename != `quote "final".pdf` || string(form.data) != "%PDF-1.7" {
		t.Errorf("form = %+v", form)
	}
	if _, err := c.UploadMedia(t.Context(), "tok", "109876543210987", "a", "", strings.NewReader("x")); !errors.Is(err, ErrInvalidMessage) {
		t.Errorf("missing mime: %v", err)
	}
}

func TestDeleteMedia(t *testing.T) {
	stub := newGraphStub(t, http.StatusOK, `{"success":true}`)
	if err := stub.client().DeleteMedia(t.Context(), "tok", "4490709327384033"); err != nil {
		t.Fatal(err)
	}
	if r := stub.last(t); r.Method != http.MethodDelete || r.Path != "/v25.0/4490709327384033" {
		t.Errorf("request = %s %s", r.Method, r.Path)
	}
	stub = newGraphStub(t, http.StatusBadRequest, `{"error":{"message":"(#100) Invalid parameter","type":"OAuthException","code":100}}`)
	if err := stub.client().DeleteMedia(t.Context(), "tok", "nope"); Classify(err) != ClassPermanent || err == nil {
		t.Errorf("DeleteMedia(unknown) = %v", err)
	}
}

func TestMediaDigestMatches(t *testing.T) {
	data := []byte("voice note bytes")
	sum := sha256.Sum256(data)
	for _, digest := range []string{
		hex.EncodeToString(sum[:]), strings.ToUpper(hex.EncodeToString(sum[:])),
		base64.StdEncoding.EncodeToString(sum[:]), base64.RawStdEncoding.EncodeToString(sum[:]),
		base64.URLEncoding.EncodeToString(sum[:]), " " + base64.RawURLEncoding.EncodeToString(sum[:]) + "\n",
	} {
		if !MediaDigestMatches(data, digest) {
			t.Errorf("digest %q rejected", digest)
		}
	}
	other := sha256.Sum256([]byte("other"))
	for _, digest := range []string{"", "abc", hex.EncodeToString(other[:]), base64.StdEncoding.EncodeToString(other[:])} {
		if MediaDigestMatches(data, digest) {
			t.Errorf("digest %q accepted", digest)
		}
	}
}
