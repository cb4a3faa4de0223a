// Package web serves Switchboard's browser app: the Vue build in dist/,
// embedded into the binary.
//
// The handler serves real files with long-lived caching for Vite's hashed
// assets, and answers every other path that does not look like a file with
// index.html, so the app's history-mode routes survive a reload. Paths the
// server owns elsewhere (the API, webhooks, health and metrics) are never
// answered with the app: here they are plain 404s.
//
// An unbuilt checkout has only dist/.gitkeep; it still compiles, and the
// handler then serves a short page that says how to build the UI.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

//go:embed all:dist
var dist embed.FS

// Handler returns the http.Handler that serves the embedded browser app.
// Mount it as the server's fallback for GET and HEAD requests.
func Handler() http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		// fs.Sub fails only on an invalid directory name; "dist" is valid.
		panic(err)
	}
	return newHandler(sub)
}

const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
)

// reservedPrefixes are served by other parts of the server. The app must not
// answer them, or a mistyped API path would get a 200 HTML page.
var reservedPrefixes = []string{"/api", "/webhooks", "/healthz", "/readyz", "/metrics"}

// contentTypes fixes the types of the files a Vite build emits, so they do
// not depend on the host's mime.types.
var contentTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".json":        "application/json",
	".map":         "application/json",
	".webmanifest": "application/manifest+json",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".jpg":         "image/jpeg",
	".jpeg":        "image/jpeg",
	".gif":         "image/gif",
	".webp":        "image/webp",
	".avif":        "image/avif",
	".ico":         "image/x-icon",
	".woff":        "font/woff",
	".woff2":       "font/woff2",
	".txt":         "text/plain; charset=utf-8",
	".wasm":        "application/wasm",
}

type handler struct {
	fsys fs.FS

	mu    sync.Mutex
	files map[string]*file // read once: the embedded files never change
}

type file struct {
	data []byte
	etag string
}

// newHandler serves the app from fsys, whose root holds index.html and assets/.
func newHandler(fsys fs.FS) http.Handler {
	return &handler{fsys: fsys, files: make(map[string]*file)}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	urlPath := r.URL.Path
	if !strings.HasPrefix(urlPath, "/") {
		urlPath = "/" + urlPath
	}
	clean := path.Clean(urlPath)
	if reserved(clean) {
		notFound(w, clean)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}

	name := strings.TrimPrefix(clean, "/")
	if hidden(name) {
		notFound(w, clean)
		return
	}
	if name != "" && name != "index.html" {
		f, err := h.open(name)
		if err == nil {
			cache := cacheRevalidate
			if strings.HasPrefix(name, "assets/") {
				cache = cacheImmutable
			}
			h.serve(w, r, name, f, cache)
			return
		}
		if !errors.Is(err, fs.ErrNotExist) {
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			return
		}
		// A missing file (a stale hashed asset, a typo) is a 404; only routes
		// of the app itself fall back to index.html.
		if looksLikeFile(name) {
			notFound(w, clean)
			return
		}
	}

	index, err := h.open("index.html")
	if err != nil {
		unbuilt(w, r)
		return
	}
	h.serve(w, r, "index.html", index, cacheRevalidate)
}

// open returns a regular file of the app, read once and kept.
func (h *handler) open(name string) (*file, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if f, ok := h.files[name]; ok {
		return f, nil
	}
	info, err := fs.Stat(h.fsys, name)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fs.ErrNotExist
	}
	data, err := fs.ReadFile(h.fsys, name)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	f := &file{data: data, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}
	h.files[name] = f
	return f, nil
}

func (h *handler) serve(w http.ResponseWriter, r *http.Request, name string, f *file, cache string) {
	header := w.Header()
	if ct := contentType(name); ct != "" {
		header.Set("Content-Type", ct)
	}
	header.Set("Cache-Control", cache)
	header.Set("ETag", f.etag)
	header.Set("X-Content-Type-Options", "nosniff")
	// ServeContent answers If-None-Match with 304, handles HEAD and ranges.
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.data))
}

func contentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if ct, ok := contentTypes[ext]; ok {
		return ct
	}
	return mime.TypeByExtension(ext) // "" lets ServeContent sniff
}

func reserved(p string) bool {
	for _, prefix := range reservedPrefixes {
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			return true
		}
	}
	return false
}

// hidden reports a dot-file or dot-directory (such as dist/.gitkeep), never served.
func hidden(name string) bool {
	for _, part := range strings.Split(name, "/") {
		if strings.HasPrefix(part, ".") {
			return true
		}
	}
	return false
}

// looksLikeFile reports a path whose last segment has an extension, or one
// under assets/: a request for a file, not for a page of the app.
func looksLikeFile(name string) bool {
	return name == "assets" || strings.HasPrefix(name, "assets/") || path.Ext(name) != ""
}

func notFound(w http.ResponseWriter, p string) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if p == "/api" || strings.HasPrefix(p, "/api/") {
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"error":{"code":"not_found","message":"Not found."}}`+"\n")
		return
	}
	http.Error(w, "404 page not found", http.StatusNotFound)
}

// unbuiltPage is served instead of the app when dist/ holds no build.
const unbuiltPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchboard — UI not built</title>
<style>
body{margin:0;min-height:100vh;display:grid;place-items:center;background:#f5f6f8;color:#15181d;
font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:460px;margin:24px;padding:32px;background:#fff;border:1px solid #e2e5ea;border-radius:12px;
box-shadow:0 12px 32px -8px rgba(16,24,40,.14)}
h1{margin:0 0 8px;font-size:20px}p{margin:0 0 12px;color:#555e6a}
code{font:13px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f1f3f6;padding:2px 6px;border-radius:6px;color:#15181d}
</style>
</head>
<body>
<main>
<h1>The web app is not built</h1>
<p>This Switchboard binary was compiled before the browser app was built, so there is no inbox to show yet.
The API is running.</p>
<p>Run <code>scripts/run.sh</code>, which builds the app and starts the server, or build it with
<code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code> and rebuild the server.</p>
</main>
</body>
</html>
`

func unbuilt(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusServiceUnavailable)
	if r.Method != http.MethodHead {
		_, _ = io.WriteString(w, unbuiltPage)
	}
}
