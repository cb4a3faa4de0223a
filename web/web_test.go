package web

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

const testIndex = `<!doctype html><html><head><title>Switchboard</title></head><body><div id="app"></div></body></html>`

func builtFS() fstest.MapFS {
	return fstest.MapFS{
		".gitkeep":                {Data: nil},
		"index.html":              {Data: []byte(testIndex)},
		"favicon.svg":             {Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"></svg>`)},
		"assets/index-AbC123.js":  {Data: []byte(`console.log("app")`)},
		"assets/index-AbC123.css": {Data: []byte(`body{margin:0}`)},
		"assets/logo-9f8e7d.png":  {Data: []byte("\x89PNG\r\n\x1a\n")},
	}
}

func TestHandler(t *testing.T) {
	const (
		html = "text/html; charset=utf-8"
		js   = "text/javascript; charset=utf-8"
		css  = "text/css; charset=utf-8"
	)
	tests := []struct {
		name        string
		method      string
		path        string
		status      int
		contentType string
		cache       string
		body        string // a fragment of the expected body; "" checks nothing
	}{
		{name: "root serves index", path: "/", status: 200, contentType: html, cache: "no-cache", body: `<div id="app">`},
		{name: "index.html itself", path: "/index.html", status: 200, contentType: html, cache: "no-cache", body: `<div id="app">`},
		{name: "app route falls back to index", path: "/inbox/mine", status: 200, contentType: html, cache: "no-cache", body: `<div id="app">`},
		{name: "login route falls back to index", path: "/login", status: 200, contentType: html, cache: "no-cache", body: `<div id="app">`},
		{name: "route with query falls back", path: "/login?redirect=%2Finbox%2Fall", status: 200, contentType: html, body: `<div id="app">`},
		{name: "dotted route segment is a file", path: "/missing.js", status: 404},
		{name: "hashed js is immutable", path: "/assets/index-AbC123.js", status: 200, contentType: js, cache: "public, max-age=31536000, immutable", body: `console.log`},
		{name: "hashed css is immutable", path: "/assets/index-AbC123.css", status: 200, contentType: css, cache: "public, max-age=31536000, immutable"},
		{name: "png content type", path: "/assets/logo-9f8e7d.png", status: 200, contentType: "image/png"},
		{name: "root file revalidates", path: "/favicon.svg", status: 200, contentType: "image/svg+xml", cache: "no-cache"},
		{name: "missing asset is 404 not index", path: "/assets/index-old.js", status: 404},
		{name: "missing asset without extension is 404", path: "/assets/whatever", status: 404},
		{name: "assets directory is not listed", path: "/assets/", status: 404},
		{name: "dot files are hidden", path: "/.gitkeep", status: 404},
		{name: "traversal is cleaned", path: "/inbox/../assets/index-AbC123.js", status: 200, contentType: js},
		{name: "api path is not swallowed", path: "/api/v1/nope", status: 404, contentType: "application/json", body: `"code":"not_found"`},
		{name: "api root is not swallowed", path: "/api", status: 404, contentType: "application/json"},
		{name: "api write is not swallowed", method: http.MethodPost, path: "/api/v1/auth/login", status: 404},
		{name: "webhooks are not swallowed", path: "/webhooks/whatsapp/1", status: 404},
		{name: "healthz is not swallowed", path: "/healthz", status: 404},
		{name: "readyz is not swallowed", path: "/readyz", status: 404},
		{name: "metrics is not swallowed", path: "/metrics", status: 404},
		{name: "prefix lookalike is an app route", path: "/apiary", status: 200, contentType: html},
		{name: "head on index", method: http.MethodHead, path: "/inbox/all", status: 200, contentType: html, cache: "no-cache"},
		{name: "post to an app route", method: http.MethodPost, path: "/inbox/mine", status: 405},
	}

	h := newHandler(builtFS())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(method, tt.path, nil))

			if rec.Code != tt.status {
				t.Fatalf("%s %s: status %d, want %d (body %q)", method, tt.path, rec.Code, tt.status, rec.Body.String())
			}
			if tt.contentType != "" {
				if got := rec.Header().Get("Content-Type"); got != tt.contentType {
					t.Errorf("Content-Type %q, want %q", got, tt.contentType)
				}
			}
			if tt.cache != "" {
				if got := rec.Header().Get("Cache-Control"); got != tt.cache {
					t.Errorf("Cache-Control %q, want %q", got, tt.cache)
				}
			}
			if tt.body != "" && !strings.Contains(rec.Body.String(), tt.body) {
				t.Errorf("body %q does not contain %q", rec.Body.String(), tt.body)
			}
			if tt.status == http.StatusNotFound && strings.Contains(rec.Body.String(), `<div id="app">`) {
				t.Errorf("a 404 served the app's index.html")
			}
			if method == http.MethodHead && rec.Body.Len() != 0 {
				t.Errorf("HEAD returned a body of %d bytes", rec.Body.Len())
			}
		})
	}
}

func TestHandlerETag(t *testing.T) {
	h := newHandler(builtFS())

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/inbox/mine", nil))
	etag := rec.Header().Get("ETag")
	if etag == "" {
		t.Fatal("index.html has no ETag, so no-cache cannot revalidate")
	}

	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Fatalf("revalidation with the ETag: status %d, want 304", rec.Code)
	}
}

func TestHandlerUnbuilt(t *testing.T) {
	// An unbuilt checkout: dist/ holds only the committed placeholder.
	h := newHandler(fstest.MapFS{".gitkeep": {Data: nil}})

	for _, p := range []string{"/", "/login", "/inbox/mine"} {
		t.Run(p, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
			if rec.Code != http.StatusServiceUnavailable {
				t.Fatalf("status %d, want 503", rec.Code)
			}
			if got := rec.Header().Get("Content-Type"); got != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", got)
			}
			if got := rec.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q, want no-store so the built app replaces it at once", got)
			}
			body := rec.Body.String()
			for _, want := range []string{"not built", "scripts/run.sh"} {
				if !strings.Contains(body, want) {
					t.Errorf("placeholder page does not mention %q", want)
				}
			}
		})
	}

	t.Run("api still 404", func(t *testing.T) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/me", nil))
		if rec.Code != http.StatusNotFound {
			t.Fatalf("status %d, want 404", rec.Code)
		}
	})

	t.Run("missing file still 404", func(t *testing.T) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/assets/index-AbC123.js", nil))
		if rec.Code != http.StatusNotFound {
			t.Fatalf("status %d, want 404", rec.Code)
		}
	})
}

// TestEmbedded checks the real embedded tree: it always holds the committed
// placeholder, and when the app is built, Handler serves its index.
func TestEmbedded(t *testing.T) {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Stat(sub, ".gitkeep"); err != nil {
		t.Fatalf("dist/.gitkeep is missing from the embed: %v", err)
	}

	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/inbox/mine", nil))
	if _, err := fs.Stat(sub, "index.html"); err != nil {
		if rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("unbuilt embed: status %d, want 503", rec.Code)
		}
		return
	}
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `id="app"`) {
		t.Fatalf("built embed: status %d, body %.200q", rec.Code, rec.Body.String())
	}
}
