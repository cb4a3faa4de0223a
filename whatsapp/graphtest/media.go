package graphtest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxUpload bounds an upload: Meta's largest media (documents) is 100 MB.
const maxUpload = 100 << 20

// uploadLimits are Meta's supported upload types and their size limits.
var uploadLimits = map[string]int64{
	"image/jpeg": 5 << 20, "image/png": 5 << 20, "image/webp": 500 << 10,
	"video/mp4": 16 << 20, "video/3gpp": 16 << 20,
	"audio/aac": 16 << 20, "audio/amr": 16 << 20, "audio/mpeg": 16 << 20, "audio/mp4": 16 << 20, "audio/ogg": 16 << 20,
	"text/plain": maxUpload, "application/pdf": maxUpload, "application/msword": maxUpload,
	"application/vnd.ms-excel": maxUpload, "application/vnd.ms-powerpoint": maxUpload,
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document":   maxUpload,
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         maxUpload,
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": maxUpload,
}

type mediaItem struct {
	mime  string
	data  []byte
	owner string // phone number id that uploaded it; "" for PutMedia
}

// mediaLink is an issued download URL: it works for the token that asked for it until expires.
type mediaLink struct {
	mediaID string
	token   string
	expires time.Time
}

// MediaSHA256 returns the digest of data as webhooks carry it: base64 of the SHA-256.
func MediaSHA256(data []byte) string {
	sum := sha256.Sum256(data)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// PutMedia stores a file under id, as if a customer had sent it: GET /{id} then answers with a
// download URL served by the fake. It returns the base64 SHA-256 to put in the inbound message.
func (s *Server) PutMedia(id, mimeType string, data []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.media[id] = &mediaItem{mime: mimeType, data: append([]byte(nil), data...)}
	return MediaSHA256(data)
}

// knownToken reports whether tok belongs to a registered number; with phoneNumberID, to that one.
func (s *Server) knownToken(tok, phoneNumberID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.numbers {
		if (phoneNumberID == "" || n.PhoneNumberID == phoneNumberID) && sameToken(tok, n.Token) {
			return true
		}
	}
	return false
}

// lookupMedia checks the token and the optional phone_number_id ownership check of a media call.
func (s *Server) lookupMedia(w http.ResponseWriter, r *http.Request, id string) (*mediaItem, bool) {
	tok, owner := bearer(r), r.URL.Query().Get("phone_number_id")
	if !s.knownToken(tok, owner) {
		s.writeError(w, invalidToken())
		return nil, false
	}
	s.mu.Lock()
	item, ok := s.media[id]
	s.mu.Unlock()
	if !ok || (owner != "" && item.owner != "" && item.owner != owner) {
		s.writeError(w, unsupported(r.Method, id))
		return nil, false
	}
	return item, true
}

// handleGetMedia serves GET /{version}/{media-id}: the media's metadata and a fresh download URL.
func (s *Server) handleGetMedia(w http.ResponseWriter, r *http.Request, id string) {
	item, ok := s.lookupMedia(w, r, id)
	if !ok {
		return
	}
	key := rand.Text()
	expires := s.opts.Clock().Add(s.opts.MediaURLTTL)
	s.mu.Lock()
	s.links[key] = mediaLink{mediaID: id, token: bearer(r), expires: expires}
	s.mu.Unlock()
	q := url.Values{"mid": {id}, "ext": {strconv.FormatInt(expires.Unix(), 10)}, "hash": {key}}
	sum := sha256.Sum256(item.data)
	writeJSON(w, map[string]string{
		"messaging_product": "whatsapp",
		"url":               s.externalBase(r) + "/whatsapp_business/attachments/?" + q.Encode(),
		"mime_type":         item.mime,
		"sha256":            hex.EncodeToString(sum[:]),
		"file_size":         strconv.Itoa(len(item.data)),
		"id":                id,
	})
}

// handleDownload serves the download URL: only with the token that obtained it, only until it expires.
func (s *Server) handleDownload(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	link, ok := s.links[q.Get("hash")]
	item := s.media[link.mediaID]
	s.mu.Unlock()
	switch {
	case !ok || link.mediaID != q.Get("mid") || item == nil:
		http.Error(w, "Not Found", http.StatusNotFound)
	case !sameToken(bearer(r), link.token):
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
	case !s.opts.Clock().Before(link.expires):
		http.Error(w, "URL signature expired", http.StatusForbidden)
	default:
		w.Header().Set("Content-Type", item.mime)
		w.Header().Set("Content-Length", strconv.Itoa(len(item.data)))
		w.Write(item.data)
	}
}

// handleUpload serves POST /{version}/{phone-number-id}/media (multipart: messaging_product, type, file).
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request, phoneNumberID string) {
	n, ok := s.authorizeNumber(w, r, phoneNumberID)
	if !ok {
		return
	}
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		s.writeError(w, apiError(100, "", "The body must be multipart/form-data."))
		return
	}
	defer r.MultipartForm.RemoveAll()
	if r.FormValue("messaging_product") != "whatsapp" {
		s.writeError(w, apiError(100, "(#100) The parameter messaging_product is required.", `messaging_product must be "whatsapp".`))
		return
	}
	file, header, err := r.FormFile("file")
	if err != nil {
		s.writeError(w, apiError(100, "(#100) The parameter file is required.", "file is required."))
		return
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, maxUpload+1))
	if err != nil {
		s.writeError(w, apiError(100, "", "The file could not be read."))
		return
	}
	mimeType := strings.TrimSpace(r.FormValue("type"))
	if mimeType == "" {
		mimeType = header.Header.Get("Content-Type")
	}
	base, _, _ := mime.ParseMediaType(mimeType)
	limit, supported := uploadLimits[base]
	switch {
	case !supported:
		s.writeError(w, apiError(131053, "", "Unsupported file type "+mimeType+"."))
		return
	case int64(len(data)) > limit:
		s.writeError(w, apiError(131053, "",
			"File of "+strconv.Itoa(len(data))+" bytes exceeds the "+strconv.FormatInt(limit, 10)+" byte limit for "+base+"."))
		return
	}
	id := newNumericID()
	s.mu.Lock()
	s.media[id] = &mediaItem{mime: mimeType, data: data, owner: n.PhoneNumberID}
	s.mu.Unlock()
	writeJSON(w, map[string]string{"id": id})
}

// handleDeleteMedia serves DELETE /{version}/{media-id}.
func (s *Server) handleDeleteMedia(w http.ResponseWriter, r *http.Request, id string) {
	if _, ok := s.lookupMedia(w, r, id); !ok {
		return
	}
	s.mu.Lock()
	delete(s.media, id)
	s.mu.Unlock()
	writeJSON(w, map[string]bool{"success": true})
}
